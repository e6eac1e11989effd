"""In the browser: a signature states what changed after the treatment, and a session
logged late is offered the lots of its own day."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from patients.services import withdraw_consent
from tests.dates import datetime_input, days_from_today, local, shown
from tests.factories import CompoundLotFactory
from tests.pdf import pdf_text
from tests.treatments.session_helpers import session_post
from treatments.models import TreatmentSession
from treatments.services.lots import quarantine_lot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_signing_after_a_withdrawal_and_a_quarantine(
    live_server, sign_in, client_for, practitioner, planned_map, lots, treatment_consent
):
    response = client_for(practitioner).post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots),  # given six weeks ago, saved as a draft
    )
    assert response.status_code == 302
    draft = TreatmentSession.objects.get()
    withdrawn = withdraw_consent(consent=treatment_consent, user=practitioner, reason="Asked")
    quarantined = quarantine_lot(
        lot=lots["Phosphatidylcholine"], user=practitioner, reason="Supplier recall 7"
    )

    page = sign_in("alice")
    page.goto(f"{live_server.url}{draft.get_absolute_url()}")
    expect(page.get_by_test_id("draft-changes")).to_contain_text("Supplier recall 7")
    page.get_by_role("link", name="Sign and lock…").click()
    changes = page.get_by_test_id("sign-change")
    expect(changes).to_have_count(2)
    expect(changes.nth(0)).to_contain_text(f"withdrawn {shown(withdrawn.withdrawn_at)}")
    expect(changes.nth(1)).to_contain_text(
        f"Lot PHOS-26 of Phosphatidylcholine quarantined {shown(quarantined.quarantined_at)}"
    )

    # Without the acknowledgements: refused, on the same page.
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_test_id("sign-refused")).to_contain_text("Acknowledge this change")
    draft.refresh_from_db()
    assert not draft.is_signed

    for n, note in enumerate(["Patient told; consent to be signed again", "Recall list"]):
        change = page.get_by_test_id("sign-change").nth(n)
        change.get_by_role("checkbox").check()
        change.get_by_label("Note").fill(note)
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_text("Session signed.")).to_be_visible()
    expect(page.get_by_test_id("acknowledgements")).to_contain_text("Recall list")

    draft.refresh_from_db()
    assert draft.is_signed
    text = pdf_text(draft.pdf.open("rb").read())
    assert f"in force at the time of treatment; withdrawn {shown(withdrawn.withdrawn_at)}" in text
    assert f"quarantined {shown(quarantined.quarantined_at)}, after this treatment" in text
    assert "current" not in text.lower()
    assert page.console_errors == []


def test_a_session_logged_three_weeks_late_offers_the_lots_of_that_day(
    live_server, sign_in, practitioner, planned_map, lots, treatment_consent
):
    in_use = lots["Phosphatidylcholine"]
    # Quarantined a week ago: after the day of the session, before today.
    in_use.quarantine(by=practitioner, reason="Recall 22", at=local(days_from_today(-7)))
    in_use.save()
    later = CompoundLotFactory(
        compound=in_use.compound, lot_number="NEW-7", received_on=days_from_today(-7)
    )
    page = sign_in("alice")
    page.goto(f"{live_server.url}{planned_map.patient.get_absolute_url()}")
    page.get_by_role("link", name="New session").click()
    lot_select = page.locator("select[name^='form-0-lot_']")
    # Today: the quarantined lot is not offered, the new delivery is (and is the only one).
    expect(lot_select).to_have_value(str(later.pk))

    page.locator("#id_performed_at").fill(datetime_input(local(days_from_today(-21))))
    page.locator("#id_performed_at").dispatch_event("change")
    expect(lot_select.locator("option")).to_have_count(2)  # "choose the lot" and one
    expect(lot_select.locator(f"option[value='{in_use.pk}']")).to_have_count(1)
    expect(lot_select.locator(f"option[value='{later.pk}']")).to_have_count(0)
    assert page.console_errors == []
