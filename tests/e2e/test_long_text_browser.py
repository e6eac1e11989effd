"""A long unbroken string (300 characters, no space) typed into free-text fields wraps on
every page that shows it: no page grows wider than the window (issue 10)."""

import pytest

from clinic.models import Location
from patients.models import Patient
from tests.factories import make_session
from treatments.models import Injection, TreatmentSession

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG = "W" * 300

WIDER_THAN_WINDOW = "document.documentElement.scrollWidth > document.documentElement.clientWidth"


def test_long_unbroken_strings_never_widen_a_page(
    live_server, sign_in, practitioner, planned_map, lots, treatment_consent
):
    patient = planned_map.patient
    Patient.objects.filter(pk=patient.pk).update(
        last_name="W" * 100,
        allergy_status="listed",
        allergies=LONG,
        contraindication_notes=LONG,
        medical_history=LONG,
        current_medications=LONG,
        address=LONG,
    )
    Location.objects.filter(pk=planned_map.location_id).update(address=LONG)
    session = make_session(planned_map, lots=lots, check_skin_cleansed=False)
    TreatmentSession.objects.filter(pk=session.pk).update(
        notes=LONG, aftercare=LONG, immediate_reactions=LONG, check_skin_cleansed_reason=LONG
    )
    Injection.objects.filter(session=session).update(
        region_label="W" * 100, needle_override_reason="W" * 200, restricted_note=LONG
    )
    page = sign_in("alice")
    wide = []
    for path in (
        patient.get_absolute_url(),
        f"/patients/?q={patient.first_name}",
        session.get_absolute_url(),
        f"/sessions/{session.pk}/print/",
        f"/patients/{patient.pk}/booklet/",
        f"/maps/{planned_map.pk}/",
        "/sessions/",
    ):
        page.goto(live_server.url + path)
        if page.evaluate(WIDER_THAN_WINDOW):
            wide.append(path)
    assert wide == []
