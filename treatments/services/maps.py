"""Writes to treatment maps. Each is one transaction."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.concurrency import StaleEdit
from patients.models import Patient
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
    if patient.archived:
        raise ValidationError("This patient is archived: restore the record before planning.")
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


@transaction.atomic
def plan_zones(
    *, treatment_map: TreatmentMap, formset, expected_version: int | None
) -> TreatmentMap:
    """Save every zone's plan or none (the formset was validated by the caller)."""
    current = TreatmentMap.objects.select_for_update().get(pk=treatment_map.pk)
    if current.version != expected_version:
        raise StaleEdit(current, {})
    for form in formset.initial_forms:  # the map's own zones; extra rows are never saved
        form.instance.full_clean()
        form.save()
    current.version += 1
    current.save(update_fields=["version"])
    return current


@transaction.atomic
def set_status(
    *, treatment_map: TreatmentMap, status: str, expected_version: int | None
) -> TreatmentMap:
    if status not in TreatmentMap.Status.values:
        raise ValidationError(f"Unknown status {status!r}.")
    current = TreatmentMap.objects.select_for_update().get(pk=treatment_map.pk)
    if current.version != expected_version:
        raise StaleEdit(current, {})
    current.status = status
    current.version += 1
    current.save(update_fields=["status", "version"])
    return current
