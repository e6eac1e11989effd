"""The treatment pages' scripts speak the page's language (issue 13): what they write
comes from the page, translated there. A practitioner whose browser asks for French."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def french_page(sign_in, practitioner):
    page = sign_in("alice")
    page.set_extra_http_headers({"Accept-Language": "fr-ca"})
    return page


def test_apply_to_several_zones_reports_in_french(live_server, french_page, planned_map):
    page = french_page
    page.goto(f"{live_server.url}/maps/{planned_map.pk}/zones/")
    expect(page.get_by_role("heading", name="Planifier les zones")).to_be_visible()
    apply = page.locator("#apply")
    apply.get_by_label("Profondeur (mm)").fill("3")

    page.get_by_role("button", name="Appliquer aux zones cochées").click()
    expect(page.get_by_role("status")).to_have_text(
        "Cochez les zones à remplir, ou appliquez à toutes les zones."
    )
    page.get_by_role("button", name="Appliquer à toutes les zones").click()
    expect(page.get_by_role("status")).to_have_text(
        "1 champ rempli dans 2 zones. Ajustez au besoin, puis enregistrez."
    )
    expect(page.locator("#id_form-1-depth_mm")).to_have_value("3")
    assert page.console_errors == []


def test_the_body_diagram_in_french_toggles_a_zone(live_server, french_page, map_patient, location):
    page = french_page
    page.goto(f"{live_server.url}/patients/{map_patient.pk}/maps/new/")
    knee = page.get_by_role("checkbox", name="Genou gauche").first
    knee.click()
    expect(knee).to_have_attribute("aria-checked", "true")
    page.get_by_text("Liste des zones").click()
    expect(page.get_by_label("Genou gauche", exact=True).last).to_be_checked()
    assert page.console_errors == []
