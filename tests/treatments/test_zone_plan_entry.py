"""The zone plan at the table: one set of values for several zones, and a summary of
every problem at the top after a failed save."""

import pytest
from django.urls import reverse

from tests.treatments.session_helpers import create_map
from treatments.models import MapZone, TreatmentMap

pytestmark = pytest.mark.django_db

ZONES = ["thigh_outer_right", "thigh_outer_left", "knee_right", "knee_left"]


def _blank_plan(treatment_map, **extra):
    """The plan form as first shown for new zones: only the needle prefilled."""
    zones = list(treatment_map.zones.order_by("region__sort_order"))
    data = {
        "version": treatment_map.version,
        "form-TOTAL_FORMS": str(len(zones)),
        "form-INITIAL_FORMS": str(len(zones)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
    }
    for i, zone in enumerate(zones):
        data[f"form-{i}-id"] = zone.pk
        data[f"form-{i}-needle_length_mm"] = str(zone.needle_length_mm)
        data[f"form-{i}-gauge"] = str(zone.gauge)
    data.update(extra)
    return data, zones


def _apply(formula, **values):
    return {
        "apply-depth_mm": "4",
        "apply-technique": "nappage",
        "apply-formula": formula.pk,
        "apply-planned_volume_ml": "2.5",
        **values,
    }


def test_apply_to_the_ticked_zones_fills_them_and_saves_nothing(
    client_for, practitioner, map_patient, location, catalogue
):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location, ZONES)
    data, zones = _blank_plan(treatment_map, **_apply(catalogue["permitted"]))
    data["apply-zones"] = [zones[0].pk, zones[2].pk]
    data["form-1-depth_mm"] = "3"  # typed in a zone not ticked: kept as typed
    data["apply"] = "ticked"
    response = client.post(reverse("treatments:map_plan", args=[treatment_map.pk]), data)
    assert response.status_code == 200
    forms = response.context["formset"].forms
    assert not response.context["formset"].is_bound  # no errors drawn for the rest yet
    assert forms[0]["planned_volume_ml"].value() == "2.5"
    assert forms[2]["formula"].value() == str(catalogue["permitted"].pk)
    assert forms[1]["formula"].value() in (None, "")
    assert forms[1]["depth_mm"].value() == "3"
    assert forms[3]["technique"].value() in (None, "")
    assert response.context["problems"] == []
    # The ticks stay ticked for a second round; nothing is saved until "Save the plan".
    ticked = [form.apply_box.data["selected"] for form in forms]
    assert ticked == [True, False, True, False]
    assert not MapZone.objects.filter(treatment_map=treatment_map, formula__isnull=False).exists()
    assert TreatmentMap.objects.get(pk=treatment_map.pk).version == treatment_map.version


def test_apply_to_all_then_save_plans_every_zone(
    client_for, practitioner, map_patient, location, catalogue
):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location, ZONES)
    url = reverse("treatments:map_plan", args=[treatment_map.pk])
    data, zones = _blank_plan(
        treatment_map,
        **_apply(catalogue["permitted"], **{"apply-planned_points": "40"}),
        apply="all",
    )
    filled = client.post(url, data).context["formset"]
    # The page as filled, posted again with one zone adjusted: the plan is saved.
    again = {**data, "apply": ""}
    for i, form in enumerate(filled.forms):
        for name in ("depth_mm", "technique", "formula", "planned_volume_ml", "planned_points"):
            again[f"form-{i}-{name}"] = form[name].value()
    again["form-3-planned_volume_ml"] = "1.5"
    response = client.post(url, again)
    assert response.status_code == 302
    volumes = dict(treatment_map.zones.values_list("region__code", "planned_volume_ml"))
    assert {str(v) for v in volumes.values()} == {"2.50", "1.50"}
    assert set(treatment_map.zones.values_list("formula", flat=True)) == {catalogue["permitted"].pk}
    # The points that prefill the sessions' rows.
    assert set(treatment_map.zones.values_list("planned_points", flat=True)) == {40}


def test_apply_without_ticked_zones_says_so(
    client_for, practitioner, map_patient, location, catalogue
):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location, ZONES)
    data, _zones = _blank_plan(treatment_map, **_apply(catalogue["permitted"]), apply="ticked")
    response = client.post(reverse("treatments:map_plan", args=[treatment_map.pk]), data)
    messages = [p.message for p in response.context["problems"]]
    assert messages == ["Tick the zones to fill, or apply to all zones."]


def test_a_bad_value_to_apply_is_shown_and_applies_nothing(
    client_for, practitioner, map_patient, location, catalogue
):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location, ZONES)
    data, _zones = _blank_plan(
        treatment_map, **_apply(catalogue["permitted"], **{"apply-depth_mm": "deep"}), apply="all"
    )
    response = client.post(reverse("treatments:map_plan", args=[treatment_map.pk]), data)
    problems = response.context["problems"]
    assert [(p.anchor, p.message) for p in problems] == [("id_apply-depth_mm", "Enter a number.")]
    assert response.context["formset"].forms[0]["formula"].value() in (None, "")


def test_a_failed_save_lists_every_problem_at_the_top_linked_to_its_field(
    client_for, practitioner, map_patient, location, catalogue
):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location, ZONES[:2])
    data, _zones = _blank_plan(
        treatment_map,
        **{
            "form-0-depth_mm": "4",
            "form-0-technique": "nappage",
            "form-0-formula": catalogue["prohibited"].pk,
            "form-0-planned_volume_ml": "2",
        },
    )
    response = client.post(reverse("treatments:map_plan", args=[treatment_map.pk]), data)
    assert response.status_code == 200
    problems = response.context["problems"]
    # The second zone's four missing fields and, in the same save, the first one's mixture.
    anchors = [p.anchor for p in problems]
    for name in ("depth_mm", "technique", "formula", "planned_volume_ml"):
        assert f"id_form-1-{name}" in anchors
    html = response.content.decode()
    summary = html[html.index('data-testid="error-summary"') : html.index('id="zone-plan"')]
    assert "5 problems to correct" in summary
    assert "Aminophylline is prohibited in Québec (CA-QC)." in summary
    assert 'href="#id_form-1-planned_volume_ml"' in summary
    assert "autofocus" in html[: html.index('data-testid="error-summary"')].rsplit("<div", 1)[1]
