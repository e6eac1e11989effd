"""Writes to patient records. Each is one transaction."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from clinic.concurrency import StaleEdit, what_changed
from clinic.i18n import patient_language
from patients.images import CleanImage
from patients.models import Consent, ConsentKind, ConsentTemplate, Measurement, Patient, Photo


@transaction.atomic
def save_patient(*, patient: Patient, fields: list[str], expected_version: int | None) -> Patient:
    """Create or update; an update must name the version it was edited from."""
    if patient.pk is None:
        patient.full_clean()
        patient.save()
        return patient
    current = Patient.objects.select_for_update().get(pk=patient.pk)
    current.check_writable()
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
    current.check_writable()  # archived already
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
    consent.patient.check_writable()
    consent.recorded_by = user
    # Evidence: the language of the wording the consent form showed.
    consent.wording_language = consent.template.wording_in(
        patient_language(consent.patient)
    ).language
    consent.signature.save(image.content.name, image.content, save=False)
    consent.full_clean()
    consent.save()
    return consent


@transaction.atomic
def withdraw_consent(*, consent: Consent, user: AbstractBaseUser, reason: str) -> Consent:
    current = Consent.objects.select_for_update().select_related("patient").get(pk=consent.pk)
    current.patient.check_writable()
    if current.withdrawn_at is not None:
        raise ValidationError(gettext("This consent was already withdrawn."), code="withdrawn")
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


def consent_statuses(patient: Patient) -> tuple[list[Consent], list[ConsentStatus]]:
    """The patient's consents (each marked `in_force`) and, per kind, whether one is in
    force (Consent.objects.in_force), or why not."""
    consents = list(
        Consent.objects.filter(patient=patient).select_related("template", "recorded_by")
    )
    in_force = set(Consent.objects.filter(patient=patient).in_force().values_list("pk", flat=True))
    latest = dict(ConsentTemplate.objects.current().values_list("kind", "version"))
    statuses = []
    for consent in consents:
        consent.in_force = consent.pk in in_force
    for kind, label in ConsentKind.choices:
        of_kind = [c for c in consents if c.template.kind == kind]
        live = [c for c in of_kind if c.withdrawn_at is None]
        if current := next((c for c in of_kind if c.in_force), None):
            state, shown = "current", current
        elif live:  # signed on an older wording (or dated after today)
            state, shown = "superseded", live[0]
        elif of_kind:
            state, shown = "withdrawn", of_kind[0]
        else:
            state, shown = "missing", None
        statuses.append(ConsentStatus(kind, label, state, shown, latest.get(kind)))
    return consents, statuses


def has_consent(patient: Patient, kind: str, at=None) -> bool:
    return Consent.objects.filter(patient=patient).in_force(kind=kind, at=at).exists()


def check_photo_allowed(patient: Patient) -> None:
    """A photo may be taken of a patient whose record is open and who consented to it.
    The photo form asks before it decodes the upload: no pixel of a photo that cannot be
    kept is ever decoded."""
    patient.check_writable()
    if not has_consent(patient, ConsentKind.PHOTOGRAPHY):
        raise ValidationError(
            gettext(
                "No photography consent is in force for this patient: record a signed "
                "photography consent before uploading photos."
            ),
            code="no_consent",
        )


@transaction.atomic
def add_photo(*, photo: Photo, image: CleanImage, user: AbstractBaseUser) -> Photo:
    check_photo_allowed(photo.patient)
    photo.uploaded_by = user
    photo.sha256 = image.sha256
    photo.image.save(image.content.name, image.content, save=False)
    photo.thumbnail.save(image.thumbnail.name, image.thumbnail, save=False)
    photo.full_clean()
    photo.save()
    return photo


@transaction.atomic
def record_measurement(*, measurement: Measurement, user: AbstractBaseUser) -> Measurement:
    measurement.patient.check_writable()
    measurement.recorded_by = user
    measurement.full_clean()
    measurement.save()
    return measurement
