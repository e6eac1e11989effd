"""At the table: record a session prefilled from the map, sign it, print it."""

import pytest
from playwright.sync_api import expect

from treatments.models import TreatmentSession

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_record_sign_and_print_a_session(
    live_server, sign_in, practitioner, planned_map, lots, treatment_consent
):
    page = sign_in("alice")
    page.goto(f"{live_server.url}{planned_map.patient.get_absolute_url()}")
    page.get_by_role("link", name="New session").click()

    # Prefilled from the map; the only usable lot is already chosen.
    expect(page.locator("#id_form-0-volume_ml")).to_have_value("2.50")
    lot_select = page.locator("select[name^='form-0-lot_']")
    expect(lot_select).to_have_value(str(lots["Phosphatidylcholine"].pk))
    for checkbox in page.locator("input[name^='check_']:not([name$='_reason'])").all():
        checkbox.check()
    page.locator("#id_form-0-points").fill("40")
    page.locator("#id_form-1-points").fill("35")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url("**/sessions/*/")
    session = TreatmentSession.objects.get()
    assert session.injections.count() == 2

    page.get_by_role("link", name="Sign and lock…").click()
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_text("Session signed.")).to_be_visible()
    session.refresh_from_db()
    assert session.is_signed and session.pdf_sha256

    page.get_by_role("link", name="Print view").click()
    summary = page.get_by_test_id("summary")
    expect(summary).to_contain_text("PHOS-26")
    expect(summary).to_contain_text("Signed electronically by")
    # The paper layout fits the injections of a usual session on one A4 page.
    pdf = page.pdf(format="A4")
    from io import BytesIO

    from pypdf import PdfReader

    assert len(PdfReader(BytesIO(pdf)).pages) == 1
    assert page.console_errors == []
