"""Writes to treatment maps. Each is one transaction."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from clinic.concurrency import StaleEdit
from patients.models import Patient
from treatments import formulary
from treatments.models import BodyRegion, MapZone, NeedleRule, TreatmentMap


@transaction.atomic
def create_map(
    *,
    treatment_map: TreatmentMap,
    patient: Patient,
    regions: list[BodyRegion],
    needle: NeedleRule | None,
    user: AbstractBaseUser,
) -> TreatmentMap:
    """The map and one zone per region, the needle prefilled from the phototype rule."""
    patient.check_writable()
    treatment_map.patient = patient
    treatment_map.created_by = user
    treatment_map.full_clean()
    treatment_map.save()
    MapZone.objects.bulk_create(
        MapZone(
            treatment_map=treatment_map,
            region=region,
            needle_length_mm=needle.length_mm if needle else None,
            gauge=needle.gauge if needle else None,
        )
        for region in regions
    )
    return treatment_map


def zone_problems(zone: MapZone) -> dict[str, list[str]]:
    """What the formulary of the map's jurisdiction says of the zone's mixture."""
    if zone.formula_id is None:
        return {}
    try:
        formulary.check(
            formulary.formula_compounds(zone.formula),
            zone.treatment_map.location.jurisdiction,
            acknowledged=zone.restricted_acknowledged,
            note=zone.restricted_note,
        )
    except ValidationError as error:
        return {"formula": error.messages}
    return {}


@transaction.atomic
def plan_zones(
    *, treatment_map: TreatmentMap, zones: list[MapZone], expected_version: int | None
) -> TreatmentMap:
    """Save every zone's plan, or none."""
    current = TreatmentMap.objects.select_for_update().get(pk=treatment_map.pk)
    treatment_map.patient.check_writable()
    if current.version != expected_version:
        raise StaleEdit(current, {})
    problems = []
    for zone in zones:
        if zone.treatment_map_id != current.pk:
            raise ValidationError(gettext("A zone of another map cannot be planned here."))
        try:
            zone.full_clean()
        except ValidationError as error:
            problems += [_about(zone, message) for message in error.messages]
            continue
        problems += [_about(zone, m) for ms in zone_problems(zone).values() for m in ms]
    if problems:
        raise ValidationError(problems)
    for zone in zones:
        zone.save()
    current.version += 1
    current.save(update_fields=["version"])
    return current


def _about(zone: MapZone, message: str) -> str:
    return gettext("%(zone)s: %(problem)s") % {"zone": zone.region, "problem": message}


@transaction.atomic
def set_status(
    *, treatment_map: TreatmentMap, status: str, expected_version: int | None
) -> TreatmentMap:
    if status not in TreatmentMap.Status.values:
        raise ValidationError(gettext("Unknown status %(status)r.") % {"status": status})
    current = TreatmentMap.objects.select_for_update().get(pk=treatment_map.pk)
    treatment_map.patient.check_writable()
    if current.version != expected_version:
        raise StaleEdit(current, {})
    current.status = status
    current.version += 1
    current.save(update_fields=["status", "version"])
    return current


@transaction.atomic
def align_needles(
    *, treatment_map: TreatmentMap, reason: str, expected_version: int | None
) -> list[MapZone]:
    """The zones whose needle is off the patient's current default (MapZone.
    needle_off_default), all at once: each gets the default needle and gauge, or, with a
    `reason`, keeps its needle with that reason. Every zone or none; the changed zones."""
    current = TreatmentMap.objects.select_for_update().get(pk=treatment_map.pk)
    current.patient.check_writable()
    if current.version != expected_version:
        raise StaleEdit(current, {})
    rule = current.needle_rule
    zones = [
        zone
        for zone in current.zones.select_related("region", "treatment_map__patient")
        if zone.needle_off_default()
    ]
    if not zones:
        raise ValidationError(gettext("Every zone already has the patient's default needle."))
    problems = []
    for zone in zones:
        if reason.strip():
            zone.needle_override_reason = reason.strip()
        else:
            zone.needle_length_mm, zone.gauge = rule.length_mm, rule.gauge
        try:
            zone.full_clean()
        except ValidationError as error:
            problems += [_about(zone, message) for message in error.messages]
    if problems:
        raise ValidationError(problems)
    for zone in zones:
        zone.save(update_fields=["needle_length_mm", "gauge", "needle_override_reason"])
    current.version += 1
    current.save(update_fields=["version"])
    return zones
