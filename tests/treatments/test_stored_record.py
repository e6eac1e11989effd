"""The signed record's part of a summary is drawn once per language and stored: at
signing, or the first time a session signed without it is shown. The session page, the
print view and the booklet read it; a draft's is drawn each time; the database keeps it
for signed sessions only and never lets it change."""

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from clinic.i18n import in_patient_language
from tests.database import DENIED, refusal
from tests.factories import make_session
from treatments.models import StoredRecord, TreatmentSession
from treatments.summary import draw_records

pytestmark = pytest.mark.django_db


def _stored(session) -> dict[str, str]:
    return dict(StoredRecord.objects.filter(session=session).values_list("language", "html"))


def test_signing_stores_the_record_in_each_language(signed, settings):
    stored = _stored(signed)
    assert set(stored) == {code for code, _ in settings.LANGUAGES}
    assert stored["en"] != stored["fr-ca"]
    assert "Signed electronically by" in stored["en"]
    assert "Signée électroniquement par" in stored["fr-ca"]
    # Typed text escaped in what is stored, like anywhere else (long runs may carry
    # break opportunities, <wbr>).
    english = stored["en"].replace("<wbr>", "")
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in english
    assert "<script>" not in english + stored["fr-ca"]


def test_the_pages_show_the_record_as_stored(client_for, practitioner, signed):
    """Each page shows the stored record and draws no other: what is stored is read."""
    client = client_for(practitioner)
    patient = signed.patient
    for url in (
        reverse("treatments:session", args=[signed.pk]),
        reverse("treatments:session_print", args=[signed.pk]),
        reverse("treatments:booklet", args=[patient.pk]),
    ):
        response = client.get(url)
        language = response.get("Content-Language", "en")
        assert response.context["record"] == _stored(signed)[language], url
        assert response.content.decode().count('class="summary-top"') == 1, url


def test_a_session_signed_without_one_stores_it_when_first_shown(
    client_for, practitioner, planned_map
):
    """As seed_demo's sessions, or those signed before records were stored."""
    session = make_session(planned_map, practitioner=practitioner)
    TreatmentSession.objects.filter(pk=session.pk).update(
        status="signed", signed_at=timezone.now(), signed_by=practitioner
    )
    assert _stored(session) == {}
    client = client_for(practitioner)
    page = client.get(reverse("treatments:session", args=[session.pk]))
    assert page.status_code == 200
    assert set(_stored(session)) == {"en"}
    with translation.override("en"):
        fresh = draw_records([TreatmentSession.objects.get(pk=session.pk)])
    assert _stored(session)["en"] == fresh[session.pk] == page.context["record"]
    # Shown again: read, not drawn and stored a second time.
    client.get(reverse("treatments:session", args=[session.pk]))
    assert StoredRecord.objects.filter(session=session).count() == 1
    with in_patient_language(session.patient) as language:
        client.get(reverse("treatments:session_print", args=[session.pk]))
    assert language in _stored(session)


def test_a_drafts_record_is_drawn_each_time_and_never_stored(client_for, practitioner, draft):
    client = client_for(practitioner)
    page = client.get(reverse("treatments:session", args=[draft.pk]))
    assert "DRAFT, NOT SIGNED" in page.content.decode()
    assert not StoredRecord.objects.exists()
    # A draft changed: its page shows the change.
    TreatmentSession.objects.filter(pk=draft.pk).update(aftercare="Ice for ten minutes")
    page = client.get(reverse("treatments:session", args=[draft.pk]))
    assert "Ice for ten minutes" in page.content.decode()
    assert not StoredRecord.objects.exists()


def test_the_database_keeps_records_of_signed_sessions_only_and_unchanged(
    signed, planned_map, practitioner
):
    stored = StoredRecord.objects.filter(session=signed).first()
    assert (
        refusal("UPDATE treatments_storedrecord SET html = 'forged' WHERE id = %s", stored.pk)
        == DENIED
    )
    assert refusal("DELETE FROM treatments_storedrecord WHERE id = %s", stored.pk) == DENIED
    other = make_session(planned_map, practitioner=practitioner)
    # A record for a draft is refused, even with a language no one uses yet.
    assert (
        refusal(
            "INSERT INTO treatments_storedrecord (session_id, language, html, drawn_at) "
            "VALUES (%s, 'de', 'forged', now())",
            other.pk,
        )
        == "23514"  # check_violation
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM treatments_storedrecord WHERE html = 'forged'")
        assert cursor.fetchone()[0] == 0
