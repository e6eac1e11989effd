"""Quarantine of a lot: who may put it in place or lift it, where, what it refuses, and
what it leaves alone (injections already given)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.treatments.session_helpers import session_at, session_post
from treatments.models import CompoundLot, TreatmentSession
from treatments.services.lots import (
    lift_lot_quarantine,
    may_change_quarantine,
    quarantine_history,
    quarantine_lot,
)
from treatments.services.sessions import PlannedInjection, injection_problems
from treatments.services.signature import changes_since_treatment

pytestmark = pytest.mark.django_db


@pytest.fixture
def lot(lots):
    return lots["Phosphatidylcholine"]  # PHOS-26, in the planned map's mixture


def _quarantine_url(lot) -> str:
    return reverse("treatments:lot_quarantine", args=[lot.pk])


def _csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_a_practitioner_quarantines_a_lot_from_its_recall_page(client_for, practitioner, lot):
    client = client_for(practitioner)
    client.handler.enforce_csrf_checks = True
    page = client.get(reverse("treatments:lot_recall", args=[lot.pk])).content.decode()
    assert 'data-testid="quarantine-form"' in page and "Quarantine this lot" in page
    forged = client.post(_quarantine_url(lot), {"action": "quarantine", "reason": "x"})
    assert forged.status_code == 403  # no CSRF token
    response = client.post(
        _quarantine_url(lot),
        {
            "action": "quarantine",
            "reason": "Manufacturer recall notice 14",
            "csrfmiddlewaretoken": _csrf_token(page),
        },
        follow=True,
    )
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("treatments:lot_recall", args=[lot.pk])
    assert "Lot PHOS-26 of Phosphatidylcholine is quarantined" in html
    assert 'data-testid="quarantine-status"' in html and "Manufacturer recall notice 14" in html
    assert "Lift the quarantine" not in html  # a practitioner cannot lift it
    lot.refresh_from_db()
    assert lot.is_quarantined and lot.quarantined_by == practitioner
    assert abs(lot.quarantined_at - timezone.now()) < timedelta(minutes=5)


def test_a_quarantine_needs_a_reason_and_is_not_repeated_or_undone_by_a_second_click(
    client_for, practitioner, lot
):
    client = client_for(practitioner)
    refused = client.post(
        _quarantine_url(lot), {"action": "quarantine", "reason": "  "}, follow=True
    )
    assert "Give the reason." in refused.content.decode()
    lot.refresh_from_db()
    assert not lot.is_quarantined
    client.post(_quarantine_url(lot), {"action": "quarantine", "reason": "Recall 14"})
    again = client.post(
        _quarantine_url(lot), {"action": "quarantine", "reason": "Recall 14"}, follow=True
    )
    assert "Lot PHOS-26 is already quarantined" in again.content.decode()
    lot.refresh_from_db()
    assert lot.is_quarantined and lot.quarantine_reason == "Recall 14"


def test_only_the_catalogue_administrator_lifts_a_quarantine(
    client_for, practitioner, catalogue_admin, lot
):
    quarantine_lot(lot=lot, user=practitioner, reason="Cloudy ampoules")
    lift = {"action": "lift", "reason": "Supplier cleared the lot"}
    assert client_for(practitioner).post(_quarantine_url(lot), lift).status_code == 403
    lot.refresh_from_db()
    assert lot.is_quarantined
    response = client_for(catalogue_admin).post(_quarantine_url(lot), lift)
    # The administrator cannot read the recall (patients): back to the lot in the console.
    assert response["Location"] == reverse("admin:treatments_compoundlot_change", args=[lot.pk])
    lot.refresh_from_db()
    assert not lot.is_quarantined
    assert lot.quarantine_lifted_by == catalogue_admin
    assert lot.quarantine_lift_reason == "Supplier cleared the lot"


@pytest.mark.parametrize("user_fixture", ["assistant", "outsider"])
def test_others_cannot_quarantine(request, client_for, user_fixture, lot):
    client = client_for(request.getfixturevalue(user_fixture))
    post = {"action": "quarantine", "reason": "x"}
    assert client.post(_quarantine_url(lot), post).status_code == 403
    assert client.get(_quarantine_url(lot)).status_code == 405
    lot.refresh_from_db()
    assert not lot.is_quarantined


def test_history_keeps_every_quarantine_and_lift(client_for, practitioner, catalogue_admin, lot):
    quarantine_lot(lot=lot, user=practitioner, reason="Cloudy ampoules")
    lift_lot_quarantine(lot=lot, user=catalogue_admin, reason="Lab test clear")
    quarantine_lot(lot=lot, user=catalogue_admin, reason="Second recall")
    history = quarantine_history(lot)
    assert [(c.lifted, c.by, c.reason) for c in history] == [
        (False, practitioner, "Cloudy ampoules"),
        (True, catalogue_admin, "Lab test clear"),
        (False, catalogue_admin, "Second recall"),
    ]
    page = client_for(practitioner).get(reverse("treatments:lot_recall", args=[lot.pk]))
    html = page.content.decode()
    assert "Quarantine history (3)" in html
    assert "lifted by" in html and "Lab test clear" in html and "Cloudy ampoules" in html


def _console_form(lot, **quarantine) -> dict:
    return {
        "compound": lot.compound_id,
        "lot_number": lot.lot_number,
        "expiry_date": lot.expiry_date.isoformat(),
        "supplier": "",
        "received_on": lot.received_on.isoformat(),
        "quarantine_change": "on",
        **quarantine,
    }


def test_catalogue_administrator_quarantines_and_lifts_in_the_console(
    client_for, catalogue_admin, lot
):
    client = client_for(catalogue_admin)
    url = reverse("admin:treatments_compoundlot_change", args=[lot.pk])
    assert "Quarantine this lot" in client.get(url).content.decode()
    form = _console_form(lot, quarantine_action="quarantine")  # as the page says, in use
    refused = client.post(url, {**form, "quarantine_note": ""})
    assert refused.status_code == 200
    assert "Give the reason for the quarantine." in refused.content.decode()
    lot.refresh_from_db()
    assert not lot.is_quarantined
    assert client.post(url, {**form, "quarantine_note": "Recall 14"}).status_code == 302
    lot.refresh_from_db()
    assert lot.is_quarantined and lot.quarantined_by == catalogue_admin
    page = client.get(url).content.decode()
    assert "Quarantined since" in page and "Lift the quarantine" in page
    assert 'name="quarantine_action" value="lift"' in page
    lift = {**form, "quarantine_action": "lift", "quarantine_note": "Cleared"}
    assert client.post(url, lift).status_code == 302
    lot.refresh_from_db()
    assert not lot.is_quarantined and lot.quarantine_lift_reason == "Cleared"


def test_a_second_quarantine_from_the_console_is_refused_not_a_lift(
    client_for, catalogue_admin, lot
):
    """Two tabs open on the lot, "Quarantine this lot" ticked in both: the second is
    refused as already done, as on the recall page, and the first reason stays."""
    client = client_for(catalogue_admin)
    url = reverse("admin:treatments_compoundlot_change", args=[lot.pk])
    first = _console_form(lot, quarantine_action="quarantine", quarantine_note="Recall 14")
    assert client.post(url, first).status_code == 302
    second = {**first, "quarantine_note": "Recall 15"}
    refused = client.post(url, second)
    assert refused.status_code == 200
    assert "Lot PHOS-26 is already quarantined" in refused.content.decode()
    lot.refresh_from_db()
    assert lot.is_quarantined and lot.quarantine_reason == "Recall 14"


def test_the_console_quarantines_through_the_service_on_the_row_locked(
    client_for, catalogue_admin, lot
):
    client = client_for(catalogue_admin)
    url = reverse("admin:treatments_compoundlot_change", args=[lot.pk])
    form = _console_form(lot, quarantine_action="quarantine", quarantine_note="Recall 14")
    with CaptureQueriesContext(connection) as queries:
        assert client.post(url, form).status_code == 302
    locks = [
        q["sql"]
        for q in queries.captured_queries
        if "FOR UPDATE" in q["sql"] and '"treatments_compoundlot"' in q["sql"]
    ]
    assert locks, "the console wrote the quarantine without the service's row lock"
    lot.refresh_from_db()
    assert lot.is_quarantined and lot.quarantined_by == catalogue_admin


def test_who_may_quarantine_is_one_rule_for_the_service_the_page_and_the_console(
    client_for, practitioner, catalogue_admin, lot
):
    """may_change_quarantine answers for all three: a practitioner quarantines (page and
    service) but never lifts, in the service either; a console user who may change
    lots but holds only the quarantine permission sees the box on a lot in use and not
    on a quarantined one."""
    assert may_change_quarantine(practitioner, lifting=False)
    assert not may_change_quarantine(practitioner, lifting=True)
    assert may_change_quarantine(catalogue_admin, lifting=True)
    quarantine_lot(lot=lot, user=practitioner, reason="Recall 14")
    with pytest.raises(PermissionDenied):
        lift_lot_quarantine(lot=lot, user=practitioner, reason="Cleared")
    lot.refresh_from_db()
    assert lot.is_quarantined
    assert (
        "Lift the quarantine"
        not in client_for(practitioner)
        .get(reverse("treatments:lot_recall", args=[lot.pk]))
        .content.decode()
    )

    clerk = UserFactory(username="quentin")
    clerk.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="treatments",
            codename__in=["view_compoundlot", "change_compoundlot", "quarantine_compoundlot"],
        )
    )
    clerk.user_permissions.add(Permission.objects.get(codename="access_console"))
    client = client_for(clerk)
    url = reverse("admin:treatments_compoundlot_change", args=[lot.pk])
    assert "quarantine_change" not in client.get(url).content.decode()  # quarantined
    lift = _console_form(lot, quarantine_action="lift", quarantine_note="Cleared")
    assert client.post(url, lift).status_code == 302  # the lot's fields, nothing else
    lot.refresh_from_db()
    assert lot.is_quarantined
    lift_lot_quarantine(lot=lot, user=catalogue_admin, reason="Cleared")
    assert "Quarantine this lot" in client.get(url).content.decode()


def test_a_practitioner_reads_the_lot_in_the_console_without_quarantine_fields(
    client_for, practitioner, lot
):
    client = client_for(practitioner)
    url = reverse("admin:treatments_compoundlot_change", args=[lot.pk])
    assert "quarantine_change" not in client.get(url).content.decode()


def _stopped(lot, practitioner, *, days_ago: int):
    """Quarantined `days_ago` days back (before or after the tests' sessions, six
    weeks ago)."""
    lot.quarantine(
        by=practitioner,
        reason="Recall 14",
        at=timezone.now() - timedelta(days=days_ago),
    )
    lot.save()
    return lot


def _lot_field(planned_map) -> str:
    return f"lot_{planned_map.zones.first().formula.ingredients.first().compound_id}"


def test_a_quarantined_lot_is_refused_for_a_new_injection_and_named(
    client_for, practitioner, planned_map, lots, lot
):
    _stopped(lot, practitioner, days_ago=50)  # before the session
    client = client_for(practitioner)
    url = reverse("treatments:session_new", args=[planned_map.patient_id])
    form = client.get(url).context["formset"].forms[0]
    offered = [value for value, _label in form.fields[_lot_field(planned_map)].choices]
    assert lot.pk not in offered
    response = client.post(url, session_post(planned_map, lots))
    html = response.content.decode()
    since = timezone.localtime(lot.quarantined_at)
    assert (
        f"Lot PHOS-26 of Phosphatidylcholine is quarantined since {since:%Y-%m-%d %H:%M} "
        "(Recall 14): choose another lot."
    ) in html
    assert not TreatmentSession.objects.exists()


def test_the_rule_lives_in_the_session_service(practitioner, planned_map, lot):
    from tests.factories import TreatmentSessionFactory
    from treatments.models import Injection

    _stopped(lot, practitioner, days_ago=50)
    session = TreatmentSessionFactory.build(
        treatment_map=planned_map, performed_at=session_at(), practitioner=practitioner
    )
    zone = planned_map.zones.first()
    injection = Injection(formula=zone.formula, region=zone.region)
    problems = injection_problems(session=session, planned=PlannedInjection(injection, [lot]))
    assert problems == {
        f"lot_{lot.compound_id}": [
            f"Lot PHOS-26 of Phosphatidylcholine is quarantined since "
            f"{timezone.localtime(lot.quarantined_at):%Y-%m-%d %H:%M} (Recall 14): "
            "choose another lot."
        ]
    }
    session.performed_at = lot.quarantined_at - timedelta(minutes=1)
    assert injection_problems(session=session, planned=PlannedInjection(injection, [lot])) == {}


def test_injections_given_before_the_quarantine_are_unaffected(
    client_for, practitioner, planned_map, lots, lot, treatment_consent
):
    client = client_for(practitioner)
    client.post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots),
    )
    draft = TreatmentSession.objects.get()
    quarantine_lot(lot=lot, user=practitioner, reason="Recall 14")  # now, after the session
    edit = reverse("treatments:session_edit", args=[draft.pk])
    form = client.get(edit).context["formset"].forms[0]
    labels = dict(form.fields[_lot_field(planned_map)].choices)
    # Usable at the session's time: offered without a mark (the rule is the session's moment).
    assert labels[lot.pk] == f"PHOS-26 — exp. {lot.expiry_date:%Y-%m-%d}"
    resaved = client.post(edit, session_post(planned_map, lots, version=draft.version))
    assert resaved.status_code == 302
    draft.refresh_from_db()
    # Signing names the quarantine since, and needs it acknowledged.
    (change,) = changes_since_treatment(draft)
    assert change.key.startswith(f"lot:{lot.pk}:quarantined:")
    client.post(
        reverse("treatments:session_sign", args=[draft.pk]),
        {"acknowledge": change.key, f"note:{change.key}": "Patient on the recall list"},
    )
    draft.refresh_from_db()
    assert draft.is_signed
    assert {used.lot_id for i in draft.injections.all() for used in i.lots.all()} >= {lot.pk}
    # And the recall finds the patient.
    recall = client.get(reverse("treatments:lot_recall", args=[lot.pk])).content.decode()
    assert planned_map.patient.chart_number in recall


def test_a_session_logged_late_may_record_a_lot_quarantined_after_it(
    client_for, practitioner, planned_map, lots, lot
):
    """The injection was given before the quarantine: recording it is the truth, and it
    is what puts the patient on the recall list."""
    quarantine_lot(lot=lot, user=practitioner, reason="Recall 14")
    response = client_for(practitioner).post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots),  # six weeks ago
    )
    assert response.status_code == 302
    assert CompoundLot.objects.get(pk=lot.pk).uses.count() == 2
