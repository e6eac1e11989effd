"""Building session form posts the way the browser sends them."""

from treatments.models import Checklist

ALL_CHECKED = {f"check_{name}": "on" for name, _ in Checklist.ITEMS}


def session_post(treatment_map, lots, *, version=None, rows=None, **changes):
    """A POST for the session form: every map zone treated with the usable lots."""
    zones = list(treatment_map.zones.select_related("formula").order_by("region__sort_order"))
    data = {
        "location": treatment_map.location_id,
        "performed_at": "2026-03-02T10:00",
        **ALL_CHECKED,
        "immediate_reactions": "Mild redness",
        "aftercare": "No sauna for 48 h",
        "next_appointment": "2026-03-16T10:00",
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
