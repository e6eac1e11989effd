"""A 14-zone session from a 14-zone plan at the treatment table, in a real browser at
1,366 × 768: the bulk controls (points, a lot per compound, the default needle after a
phototype change), the checklist in one step, and signing, counted input by input."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import Patient
from tests.factories import (
    CompoundFactory,
    CompoundLotFactory,
    FormulaFactory,
    list_on_formulary,
)
from tests.treatments.session_helpers import FOURTEEN_ZONES, map_of_zones
from treatments.models import Compound, CompoundLot, MapZone, TreatmentSession

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1366, 768


class Counted:
    """Each fill, choice, tick and click a practitioner makes, counted."""

    def __init__(self):
        self.inputs = []

    def __call__(self, what: str, action, *args, **kwargs):
        self.inputs.append(what)
        action(*args, **kwargs)


@pytest.fixture
def fourteen_zone_map(map_patient, location, practitioner, lots):
    """A plan of 14 zones with a two-compound mixture, 40 points each; both compounds
    have two usable lots (so a lot must be chosen), and the patient's phototype changed
    after the plan (its 4 mm needles are no longer her default)."""
    caffeine = CompoundFactory(name="Caffeine")
    list_on_formulary(caffeine, location.jurisdiction)
    phosphatidylcholine = Compound.objects.get(name="Phosphatidylcholine")
    mixture = FormulaFactory(name="Lipolysis AC", compounds=[phosphatidylcholine, caffeine])
    later = timezone.localdate() + timedelta(days=500)
    for compound, prefix in ((caffeine, "CAFF"), (phosphatidylcholine, "PHOS")):
        CompoundLotFactory(compound=compound, lot_number=f"{prefix}-A1")
        CompoundLotFactory(compound=compound, lot_number=f"{prefix}-B2", expiry_date=later)
    treatment_map = map_of_zones(map_patient, location, practitioner, FOURTEEN_ZONES)
    MapZone.objects.filter(treatment_map=treatment_map).update(
        formula=mixture,
        planned_volume_ml=2,
        planned_points=40,
        depth_mm=4,
        technique="nappage",
    )
    Patient.objects.filter(pk=map_patient.pk).update(phototype=5)  # default needle: 6 mm
    return treatment_map


def test_a_14_zone_session_in_at_most_12_inputs_within_two_screens(
    live_server, sign_in, fourteen_zone_map, treatment_consent
):
    page = sign_in("alice")
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    patient = fourteen_zone_map.patient
    page.goto(f"{live_server.url}{patient.get_absolute_url()}")
    act = Counted()
    act("new session", page.get_by_role("link", name="New session").click)
    page.wait_for_url("**/sessions/new/**")

    # The whole form, 14 zones, within two screen heights, nothing wider than the screen.
    assert page.locator("[data-zone-row]").count() == 14
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 2 * HEIGHT, f"{height} px"
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    # Points come from the plan; every zone is flagged for its needle.
    expect(page.locator("#id_form-13-points")).to_have_value("40")
    expect(page.get_by_test_id("needle-off")).to_contain_text("14 zones")

    act("checklist", page.get_by_role("button", name="All six done").click)
    apply = page.locator("#apply")
    act("points", apply.get_by_label("Points").fill, "30")
    for compound, number in (("Caffeine", "CAFF-B2"), ("Phosphatidylcholine", "PHOS-A1")):
        lot = CompoundLot.objects.get(lot_number=number)
        label = f"{number} — exp. {lot.expiry_date:%Y-%m-%d}"
        act("lot", apply.get_by_label(f"Lot of {compound}").select_option, label=label)
    act("apply", page.get_by_role("button", name="Apply to all zones").click)
    expect(page.get_by_role("status")).to_contain_text("Filled 3 fields in 14 zones")
    act("needle", page.get_by_role("button", name="Use 6 mm").click)
    expect(page.locator("#id_form-7-needle_length_mm")).to_have_value("6.0")
    act("save", page.get_by_role("button", name="Save draft").click)
    page.wait_for_url("**/sessions/*/")
    act("sign", page.get_by_role("link", name="Sign and lock…").click)
    act("sign", page.get_by_role("button", name="Sign and lock").click)
    expect(page.get_by_text("Session signed.")).to_be_visible()

    assert len(act.inputs) <= 12, act.inputs
    session = TreatmentSession.objects.get()
    assert session.is_signed
    injections = list(session.injections.prefetch_related("lots"))
    assert len(injections) == 14
    assert {(i.points, i.needle_length_mm, i.needle_override_reason) for i in injections} == {
        (30, 6, "")
    }
    assert {
        frozenset(lot.lot_number for lot in injection.lots.all()) for injection in injections
    } == {frozenset({"CAFF-B2", "PHOS-A1"})}
    assert page.console_errors == []
