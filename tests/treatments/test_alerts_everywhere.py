"""The alerts partial says the same on every screen and on paper (issue 22, item 3)."""

import pytest
from django.urls import reverse

from patients.models import AllergyStatus, Patient
from tests.pdf import pdf_text
from tests.treatments.session_helpers import session_post
from treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db

HISTORY = "pregnant, 12 weeks"
GREEN = "No known allergies; no contraindications, medical history or medications recorded."


def _block(html: str) -> str:
    assert 'data-testid="alerts"' in html, "no alerts on the page"
    return html.split('data-testid="alerts"', 1)[1].split("\n</div>", 1)[0]


def _signed(client, treatment_map, lots) -> TreatmentSession:
    response = client.post(
        reverse("treatments:session_new", args=[treatment_map.patient_id]),
        session_post(treatment_map, lots),
    )
    assert response.status_code == 302
    session = TreatmentSession.objects.get()
    assert client.post(reverse("treatments:session_sign", args=[session.pk])).status_code == 302
    session.refresh_from_db()
    assert session.is_signed
    return session


def _pdf(session: TreatmentSession) -> str:
    with session.pdf.open("rb") as handle:
        return pdf_text(handle.read())


def test_medical_history_and_unasked_allergies_on_every_screen_and_paper(
    client_for, practitioner, map_patient, planned_map, lots, treatment_consent
):
    Patient.objects.filter(pk=map_patient.pk).update(
        medical_history=HISTORY, current_medications="Folic acid"
    )
    client = client_for(practitioner)

    def shows(url, *, banner):
        alerts = _block(client.get(url).content.decode())
        assert f"<strong>Medical history:</strong> <bdi>{HISTORY}</bdi>" in alerts
        assert "<strong>Current medications:</strong> <bdi>Folic acid</bdi>" in alerts
        assert "Allergies not recorded yet." in alerts
        assert ("Before injecting" in alerts) is banner

    shows(map_patient.get_absolute_url(), banner=False)
    shows(reverse("treatments:session_new", args=[map_patient.pk]), banner=True)
    shows(reverse("treatments:map_plan", args=[planned_map.pk]), banner=True)
    session = _signed(client, planned_map, lots)
    shows(reverse("treatments:session", args=[session.pk]), banner=False)
    shows(reverse("treatments:session_print", args=[session.pk]), banner=False)
    shows(reverse("treatments:booklet", args=[map_patient.pk]), banner=False)
    text = _pdf(session)
    assert f"Medical history: {HISTORY}" in text
    assert "Current medications: Folic acid" in text
    assert "Allergies not recorded yet." in text


def test_the_sign_page_shows_the_alerts(
    client_for, practitioner, map_patient, planned_map, lots, treatment_consent
):
    Patient.objects.filter(pk=map_patient.pk).update(
        allergy_status=AllergyStatus.LISTED, allergies="Lidocaine"
    )
    client = client_for(practitioner)
    client.post(
        reverse("treatments:session_new", args=[map_patient.pk]),
        session_post(planned_map, lots),
    )
    session = TreatmentSession.objects.get()
    alerts = _block(
        client.get(reverse("treatments:session_sign", args=[session.pk])).content.decode()
    )
    assert "Before injecting" in alerts
    assert "<strong>Allergies:</strong> <bdi>Lidocaine</bdi>" in alerts


def test_nothing_to_report_is_said_on_paper_too(
    client_for, practitioner, map_patient, planned_map, lots, treatment_consent
):
    """Answered "no known allergies", nothing else: the signed PDF says so, in green on
    screen; it never leaves the question silent."""
    Patient.objects.filter(pk=map_patient.pk).update(allergy_status=AllergyStatus.NONE_KNOWN)
    client = client_for(practitioner)
    page = client.get(reverse("treatments:session_new", args=[map_patient.pk])).content.decode()
    assert f'data-testid="alerts" data-level="clear">{GREEN}</div>' in page
    session = _signed(client, planned_map, lots)
    assert GREEN in _pdf(session)
