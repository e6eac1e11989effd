"""Building map, zone-plan and session form posts the way the browser sends them."""

from datetime import datetime

from tests.dates import datetime_input, days_from_today, local
from treatments.models import Checklist

ALL_CHECKED = {f"check_{name}": "on" for name, _ in Checklist.ITEMS}

# The sessions of these tests took place six weeks ago, whatever today is: in the past,
# and so are follow-ups and later sessions a few weeks after it; within the year of lots
# the form offers; before the usable lots expire (a year from today).
WEEKS_AGO = 6


# The legs and flanks: the largest usual plan, 14 zones.
FOURTEEN_ZONES = [
    "buttock_left",
    "buttock_right",
    "thigh_back_left",
    "thigh_back_right",
    "thigh_outer_right",
    "thigh_front_right",
    "thigh_inner_right",
    "thigh_inner_left",
    "thigh_front_left",
    "thigh_outer_left",
    "knee_right",
    "knee_left",
    "flank_right",
    "flank_left",
]


def map_of_zones(patient, location, practitioner, codes):
    """A map of these zones made by the map service, each with the patient's default
    needle and nothing else planned yet."""
    from tests.factories import TreatmentMapFactory
    from treatments.models import BodyRegion, NeedleRule
    from treatments.services.maps import create_map as create

    return create(
        treatment_map=TreatmentMapFactory.build(patient=patient, location=location),
        patient=patient,
        regions=list(BodyRegion.objects.filter(code__in=codes)),
        needle=NeedleRule.objects.for_patient(patient),
        user=practitioner,
    )


def session_at(days_later: int = 0, hour: int = 10, minute: int = 0) -> datetime:
    """The session's date and time (10:00 six weeks ago), or `days_later` than it."""
    return local(days_from_today(days_later - 7 * WEEKS_AGO), hour, minute)


def session_post(treatment_map, lots, *, version=None, rows=None, **changes):
    """A POST for the session form: every map zone treated with the usable lots, at
    session_at(), the next appointment two weeks later."""
    zones = list(treatment_map.zones.select_related("formula").order_by("region__sort_order"))
    data = {
        "location": treatment_map.location_id,
        "performed_at": datetime_input(session_at()),
        **ALL_CHECKED,
        "immediate_reactions": "Mild redness",
        "aftercare": "No sauna for 48 h",
        "next_appointment": datetime_input(session_at(14)),
        "notes": "",
        "form-TOTAL_FORMS": str(len(zones)),
        "form-INITIAL_FORMS": str(len(zones)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "60",
    }
    if version is not None:
        data["version"] = str(version)
    for i, zone in enumerate(zones):
        row = {
            "treated": "on",
            "map_zone": zone.pk,
            "formula": zone.formula_id,
            "volume_ml": "2.5",
            "points": "40",
            "depth_mm": "4",
            "needle_length_mm": "4",
            "gauge": "30",
            "technique": "nappage",
        }
        for ingredient in zone.formula.ingredients.all():
            row[f"lot_{ingredient.compound_id}"] = lots[ingredient.compound.name].pk
        row.update((rows or {}).get(i, {}))
        data.update({f"form-{i}-{k}": v for k, v in row.items() if v is not None})
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def map_post(location, regions, /, **changes):
    """Step 1 of a map: cellulite at `location`, the `regions` ticked, mapped yesterday."""
    from treatments.models import Indication

    data = {
        "indication": Indication.objects.get(code="cellulite").pk,
        "location": location.pk,
        "mapped_standing": "on",
        "mapped_at": datetime_input(local(days_from_today(-1), 9, 30)),
        "planned_sessions": "6",
        "days_between": "14",
        "notes": "Orange-peel skin on both thighs",
        "regions": regions,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def create_map(client, patient, location, regions=("thigh_outer_right", "thigh_outer_left")):
    """A map made through the page; the newest map."""
    from django.urls import reverse

    from treatments.models import TreatmentMap

    response = client.post(
        reverse("treatments:map_new", args=[patient.pk]), map_post(location, list(regions))
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return TreatmentMap.objects.latest("id")


# A zone not planned yet is posted with this plan (4 mm needle, 30G, 4 mm deep...).
STANDARD_PLAN = {
    "needle_length_mm": "4",
    "gauge": "30",
    "depth_mm": "4",
    "technique": "nappage",
    "spacing_mm": "10",
    "planned_volume_ml": "2.5",
}


def plan_post(treatment_map, formula=None, **changes):
    """The zone plan form: every zone as planned (or STANDARD_PLAN where it is not yet),
    with `formula` for every zone if given, then `changes` applied to every row."""
    from treatments.models import TreatmentMap

    zones = list(treatment_map.zones.order_by("region__sort_order"))
    data = {
        "version": TreatmentMap.objects.get(pk=treatment_map.pk).version,
        "form-TOTAL_FORMS": str(len(zones)),
        "form-INITIAL_FORMS": str(len(zones)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
    }
    for i, zone in enumerate(zones):
        row = {
            name: default if getattr(zone, name) in (None, "") else str(getattr(zone, name))
            for name, default in STANDARD_PLAN.items()
        }
        row.update(
            id=zone.pk,
            needle_override_reason=zone.needle_override_reason,
            formula=formula.pk if formula is not None else zone.formula_id,
            restricted_note="",
            baseline="",
        )
        row.update(changes)
        data.update({f"form-{i}-{k}": v for k, v in row.items() if v is not None})
    return data
