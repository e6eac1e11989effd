"""Writes to patient records. Each is one transaction."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.concurrency import StaleEdit, what_changed
from patients.images import CleanImage
from patients.models import Consent, ConsentKind, Patient, Photo


@transaction.atomic
def save_patient(*, patient: Patient, fields: list[str], expected_version: int | None) -> Patient:
    """Create or update; an update must name the version it was edited from."""
    if patient.pk is None:
        patient.full_clean()
        patient.save()
        return patient
    current = Patient.objects.select_for_update().get(pk=patient.pk)
    if expected_version != current.version:
        raise StaleEdit(current, what_changed(current, expected_version, fields))
    patient.version = current.version + 1
    patient.full_clean()
    patient.save(update_fields=[*fields, "version", "updated_at"])
    return patient


@transaction.atomic
def archive_patient(*, patient: Patient, expected_version: int) -> Patient:
    current = Patient.objects.select_for_update().get(pk=patient.pk)
    if current.version != expected_version:
        raise StaleEdit(current, {})
    current.archived = True
    current.archived_at = timezone.now()
    current.version += 1
    current.save(update_fields=["archived", "archived_at", "version", "updated_at"])
    return current


@transaction.atomic
def restore_patient(*, patient: Patient) -> Patient:
    current = Patient.objects.select_for_update().get(pk=patient.pk)
    current.archived = False
    current.archived_at = None
    current.version += 1
    current.save(update_fields=["archived", "archived_at", "version", "updated_at"])
    return current


@transaction.atomic
def record_consent(*, consent: Consent, image: CleanImage, user: AbstractBaseUser) -> Consent:
    consent.recorded_by = user
    consent.signature.save(image.content.name, image.content, save=False)
    consent.full_clean()
    consent.save()
    return consent


@transaction.atomic
def withdraw_consent(*, consent: Consent, user: AbstractBaseUser, reason: str) -> Consent:
    current = Consent.objects.select_for_update().get(pk=consent.pk)
    if current.withdrawn_at is not None:
        raise ValidationError("This consent was already withdrawn.")
    current.withdrawn_at = timezone.now()
    current.withdrawn_by = user
    current.withdrawal_reason = reason
    current.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    return current


@dataclass(frozen=True)
class ConsentStatus:
    kind: str
    label: str
    state: str  # "current", "superseded", "withdrawn" or "missing"
    consent: Consent | None
    latest_version: int | None

    @property
    def ok(self) -> bool:
        return self.state == "current"


def consent_statuses(
    consents: list[Consent], latest_versions: dict[str, int]
) -> list[ConsentStatus]:
    """Per consent kind: is a signature in force on the newest wording?"""
    statuses = []
    for kind, label in ConsentKind.choices:
        of_kind = [c for c in consents if c.template.kind == kind]
        in_force = [c for c in of_kind if c.withdrawn_at is None]
        latest = latest_versions.get(kind)
        newest = max(in_force, key=lambda c: (c.template.version, c.signed_on), default=None)
        if newest is not None:
            state = (
                "current" if latest is None or newest.template.version >= latest else "superseded"
            )
            statuses.append(ConsentStatus(kind, label, state, newest, latest))
        elif of_kind:
            statuses.append(ConsentStatus(kind, label, "withdrawn", of_kind[0], latest))
        else:
            statuses.append(ConsentStatus(kind, label, "missing", None, latest))
    return statuses


def has_photography_consent(patient: Patient) -> bool:
    """A signed photography consent not withdrawn (an older wording still counts)."""
    return (
        Consent.objects.in_force()
        .filter(patient=patient, template__kind=ConsentKind.PHOTOGRAPHY)
        .exists()
    )


@transaction.atomic
def add_photo(*, photo: Photo, image: CleanImage, user: AbstractBaseUser) -> Photo:
    if not has_photography_consent(photo.patient):
        raise ValidationError(
            "No photography consent is in force for this patient: record a signed photography "
            "consent before uploading photos."
        )
    photo.uploaded_by = user
    photo.sha256 = image.sha256
    photo.image.save(image.content.name, image.content, save=False)
    photo.thumbnail.save(image.thumbnail.name, image.thumbnail, save=False)
    photo.full_clean()
    photo.save()
    return photo
