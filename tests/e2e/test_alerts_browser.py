"""What is typed in the medical history reaches the banner and the signed PDF (issue 22)."""

import pytest
from playwright.sync_api import expect

from patients.models import AllergyStatus
from tests.pdf import pdf_text
from treatments.models import TreatmentSession

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HISTORY = "pregnant, 12 weeks"


def test_pregnant_in_the_history_reaches_chart_session_form_and_signed_pdf(
    live_server, sign_in, practitioner, planned_map, lots, treatment_consent
):
    patient = planned_map.patient
    page = sign_in("alice")
    page.goto(f"{live_server.url}{patient.get_absolute_url()}")
    expect(page.get_by_test_id("alerts")).to_contain_text("Allergies not recorded yet.")

    # A listed answer needs its list: the form shows the model's refusal.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Allergies listed", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("List the allergies, or answer")).to_be_visible()

    page.get_by_label("No known allergies").check()
    page.get_by_label("Medical history").fill(HISTORY)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}{patient.get_absolute_url()}")
    patient.refresh_from_db()
    assert (patient.allergy_status, patient.medical_history) == (AllergyStatus.NONE_KNOWN, HISTORY)
    chart_alerts = page.get_by_test_id("alerts")
    expect(chart_alerts).to_contain_text(f"Medical history: {HISTORY}")
    expect(chart_alerts).to_contain_text("No known allergies.")
    expect(chart_alerts).not_to_contain_text("no contraindications, medical history")

    page.get_by_role("link", name="New session").click()
    banner = page.get_by_test_id("alerts")
    expect(banner).to_contain_text("Before injecting:")
    expect(banner).to_contain_text(f"Medical history: {HISTORY}")
    for checkbox in page.locator("input[name^='check_']:not([name$='_reason'])").all():
        checkbox.check()
    page.locator("#id_form-0-points").fill("40")
    page.locator("#id_form-1-points").fill("35")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url("**/sessions/*/")
    page.get_by_role("link", name="Sign and lock…").click()
    expect(page.get_by_test_id("alerts")).to_contain_text(f"Medical history: {HISTORY}")
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_text("Session signed.")).to_be_visible()

    session = TreatmentSession.objects.get()
    assert session.is_signed
    with session.pdf.open("rb") as handle:
        assert f"Medical history: {HISTORY}" in pdf_text(handle.read())
    assert page.console_errors == []
