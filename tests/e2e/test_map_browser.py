"""Choosing zones by clicking the body diagram in a real browser."""

import pytest
from playwright.sync_api import expect

from tests.factories import LocationFactory, PatientFactory
from treatments.models import TreatmentMap

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_click_zones_on_the_diagram_to_create_a_map(live_server, sign_in, practitioner):
    patient = PatientFactory(phototype=5)
    location = LocationFactory(name="Laval clinic")
    page = sign_in("alice")
    page.goto(f"{live_server.url}/patients/{patient.pk}/maps/new/")

    outer_left = page.locator('[data-region="thigh_outer_left"][tabindex]')
    outer_left.click()
    page.locator('[data-region="thigh_outer_right"][tabindex]').click()
    page.locator('[data-region="forehead"]').click()
    page.locator('[data-region="forehead"]').click()  # a second click unselects
    expect(outer_left).to_have_attribute("aria-checked", "true")
    expect(page.locator("#zone-thigh_outer_left")).to_be_checked()
    expect(page.locator("#zone-forehead")).not_to_be_checked()
    # Keyboard works too.
    page.locator('[data-region="knee_left"][tabindex]').focus()  # in the close-up
    page.keyboard.press("Enter")
    expect(page.locator("#zone-knee_left")).to_be_checked()

    page.get_by_label("Indication").select_option(label="Cellulite")
    page.get_by_label("Location").select_option(label=location.name)
    page.get_by_label("The area was mapped and measured with the patient standing").check()
    page.get_by_role("button", name="Save and plan the zones").click()
    page.wait_for_url("**/zones/")

    treatment_map = TreatmentMap.objects.get()
    codes = set(treatment_map.zones.values_list("region__code", flat=True))
    assert codes == {"thigh_outer_left", "thigh_outer_right", "knee_left"}
    # Phototype V: the 6 mm default is prefilled in the plan.
    expect(page.locator("#id_form-0-needle_length_mm")).to_have_value("6.0")
    assert page.console_errors == []
