"""Two people saving the same draft: real connections, real row locks."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from clinic.concurrency import StaleEdit
from tests.treatments.session_helpers import session_post
from treatments.forms.sessions import SessionForm, injection_formset
from treatments.models import TreatmentSession
from treatments.services.sessions import save_session


@pytest.fixture
def shared_draft(client_for, practitioner, planned_map, lots):
    client = client_for(practitioner)
    client.post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots),
    )
    return TreatmentSession.objects.get()


def _save_from(session_pk, data, results, barrier):
    """What the edit view does, in a thread with its own database connection."""
    try:
        session = TreatmentSession.objects.select_related("treatment_map", "patient").get(
            pk=session_pk
        )
        form = SessionForm(data, instance=session)
        formset = injection_formset(session=session, data=data)
        assert form.is_valid() and formset.is_valid(), (form.errors, formset.errors)
        barrier.wait(timeout=10)  # both have read version 1 before either writes
        save_session(
            session=form.save(commit=False),
            injections=[f.planned() for f in formset.treated_forms()],
            expected_version=form.cleaned_data["version"],
        )
        results.append("saved")
    except StaleEdit as stale:
        results.append(stale)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_second_stale_save_gets_a_conflict_and_overwrites_nothing(
    shared_draft, planned_map, lots
):
    first = session_post(planned_map, lots, version=1, notes="first editor")
    second = session_post(
        planned_map, lots, version=1, notes="second editor", rows={0: {"volume_ml": "1"}}
    )
    results: list = []
    barrier = threading.Barrier(2)
    threads = [
        threading.Thread(target=_save_from, args=(shared_draft.pk, data, results, barrier))
        for data in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(map(str, results)).count("saved") == 1
    (stale,) = [r for r in results if isinstance(r, StaleEdit)]
    shared_draft.refresh_from_db()
    assert shared_draft.version == 2
    winner = shared_draft.notes
    assert winner in {"first editor", "second editor"}
    assert stale.changed["notes"][1] == winner  # the conflict shows what the other person saved
    volumes = sorted(str(i.volume_ml) for i in shared_draft.injections.all())
    assert volumes == (["2.50", "2.50"] if winner == "first editor" else ["1.00", "2.50"])


@pytest.mark.django_db
def test_conflict_page_keeps_the_typing_and_names_the_changes(
    client_for, practitioner, shared_draft, planned_map, lots
):
    client = client_for(practitioner)
    url = reverse("treatments:session_edit", args=[shared_draft.pk])
    client.post(url, session_post(planned_map, lots, version=1, aftercare="Ice packs"))
    response = client.post(url, session_post(planned_map, lots, version=1, aftercare="Arnica gel"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this session" in html
    assert "No sauna for 48 h → Ice packs" in html
    assert "Arnica gel" in html  # this user's typing is still in the form
    shared_draft.refresh_from_db()
    assert shared_draft.aftercare == "Ice packs" and shared_draft.version == 2
