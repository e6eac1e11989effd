"""Fast entry at the treatment table, in a real browser at a 1,366 px wide screen: a
14-zone plan filled with "apply to several zones", and a mixture change that shows its
lots at once."""

import pytest
from playwright.sync_api import expect

from tests.treatments.session_helpers import FOURTEEN_ZONES, map_of_zones
from treatments.models import MapZone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _no_horizontal_scroll(page):
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.fixture
def wide_page(sign_in, practitioner):
    page = sign_in("alice")
    page.set_viewport_size({"width": 1366, "height": 768})
    return page


def test_a_14_zone_plan_entered_with_apply_to_all(
    live_server, wide_page, practitioner, map_patient, location, catalogue
):
    page = wide_page
    treatment_map = map_of_zones(map_patient, location, practitioner, FOURTEEN_ZONES)
    page.goto(f"{live_server.url}/maps/{treatment_map.pk}/zones/")
    assert page.locator("[data-zone-row]").count() == 14
    assert _no_horizontal_scroll(page)

    # A save with nothing planned: the summary at the top has the focus and links each field.
    page.get_by_role("button", name="Save the plan").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("56 problems to correct")
    summary.get_by_role("link").nth(2).click()
    expect(page.locator("#id_form-0-formula")).to_be_focused()

    # Four values typed once, applied to all 14 zones in the page, one zone adjusted.
    apply = page.locator("#apply")
    apply.get_by_label("Depth (mm)").fill("4")
    apply.get_by_label("Technique").select_option("nappage")
    apply.get_by_label("Formula").select_option(label="Lipolysis A")
    apply.get_by_label("Volume (mL)").fill("2.5")
    page.get_by_role("button", name="Apply to all zones").click()
    expect(page.get_by_role("status")).to_contain_text("Filled 4 fields in 14 zones")
    expect(page.locator("#id_form-13-planned_volume_ml")).to_have_value("2.5")
    page.locator("#id_form-13-planned_volume_ml").fill("1.5")
    page.get_by_role("button", name="Save the plan").click()
    page.wait_for_url(f"**/maps/{treatment_map.pk}/")

    zones = MapZone.objects.filter(treatment_map=treatment_map)
    assert zones.filter(formula=catalogue["permitted"], technique="nappage").count() == 14
    assert sorted(str(v) for v in zones.values_list("planned_volume_ml", flat=True)) == (
        ["1.50"] + ["2.50"] * 13
    )
    assert page.console_errors == []


def test_apply_to_the_ticked_zones_only(
    live_server, wide_page, practitioner, map_patient, location, catalogue
):
    page = wide_page
    treatment_map = map_of_zones(map_patient, location, practitioner, FOURTEEN_ZONES[:3])
    page.goto(f"{live_server.url}/maps/{treatment_map.pk}/zones/")
    page.locator("#apply").get_by_label("Depth (mm)").fill("3")
    page.get_by_role("button", name="Apply to ticked zones").click()
    expect(page.get_by_role("status")).to_contain_text("Tick the zones to fill")
    page.locator("#zone-1").get_by_label("Apply to this zone").check()
    page.get_by_role("button", name="Apply to ticked zones").click()
    expect(page.locator("#id_form-1-depth_mm")).to_have_value("3")
    expect(page.locator("#id_form-0-depth_mm")).to_have_value("")
    assert page.console_errors == []


def test_choosing_a_mixture_shows_its_lots_and_verdict_without_a_save(
    live_server, wide_page, practitioner, planned_map, lots, treatment_consent
):
    page = wide_page
    page.goto(f"{live_server.url}/patients/{planned_map.patient_id}/sessions/new/")
    row = page.locator("#zone-0")
    expect(row.get_by_label("Lot of Deoxycholate *")).to_have_count(0)
    # The restricted and prohibited mixtures are marked in the dropdown itself.
    formula = row.get_by_label("Formula")
    expect(formula.locator("option", has_text="Lipolysis C")).to_have_text(
        "Lipolysis C — not allowed here"
    )

    formula.select_option(label="Lipolysis B — restricted: acknowledgement needed")
    lot = row.get_by_label("Lot of Deoxycholate *")
    expect(lot).to_be_visible()
    usable = lots["Deoxycholate"]
    expect(lot.locator("option", has_text="DEOX-26")).to_have_text(
        f"DEOX-26 — exp. {usable.expiry_date:%Y-%m-%d}"
    )
    expect(lot).to_have_value(str(usable.pk))  # the only usable lot, chosen
    expect(lot.locator("option", has_text="DEOX-19")).to_have_count(0)  # long expired
    expect(row.get_by_test_id("formula-note")).to_contain_text("Deoxycholate is restricted")
    expect(row.get_by_label("I acknowledge the restricted compounds")).to_be_visible()

    formula.select_option(label="Lipolysis C — not allowed here")
    expect(row.get_by_test_id("formula-note")).to_contain_text(
        "Aminophylline is prohibited in Québec (CA-QC)."
    )
    expect(row.get_by_label("Lot of Aminophylline *")).to_be_visible()
    expect(row.get_by_label("Lot of Deoxycholate *")).to_have_count(0)
    # The other row keeps its mixture and lot.
    expect(page.locator("#zone-1").get_by_label("Lot of Phosphatidylcholine *")).to_have_value(
        str(lots["Phosphatidylcholine"].pk)
    )
    assert _no_horizontal_scroll(page)
    assert page.console_errors == []


def test_apply_to_all_works_without_javascript(
    live_server, browser, practitioner, map_patient, location, catalogue
):
    from tests.factories import TEST_PASSWORD

    treatment_map = map_of_zones(map_patient, location, practitioner, FOURTEEN_ZONES[:3])
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(f"{live_server.url}/maps/{treatment_map.pk}/zones/")
    apply = page.locator("#apply")
    apply.get_by_label("Depth (mm)").fill("4")
    apply.get_by_label("Technique").select_option("nappage")
    apply.get_by_label("Formula").select_option(label="Lipolysis A")
    apply.get_by_label("Volume (mL)").fill("2")
    page.get_by_role("button", name="Apply to all zones").click()  # a round trip
    expect(page.locator("#id_form-2-planned_volume_ml")).to_have_value("2")
    expect(page.get_by_test_id("error-summary")).to_have_count(0)
    page.get_by_role("button", name="Save the plan").click()
    page.wait_for_url(f"**/maps/{treatment_map.pk}/")
    assert MapZone.objects.filter(treatment_map=treatment_map, depth_mm=4).count() == 3
    context.close()
