"""The helpers every patient-record view calls to leave access-log rows (the privacy
officer's search over them is reports/audit.py)."""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest

from clinic.models import AccessLog


def _row(request: HttpRequest, *, patient_id: int, action: str, subject: models.Model):
    if action not in AccessLog.Action.values:
        raise ValueError(f"unknown access action {action!r}")
    return AccessLog(
        user=request.user,
        action=action,
        content_type=ContentType.objects.get_for_model(subject),
        object_id=str(subject.pk),
        patient_id=patient_id,
        path=request.get_full_path()[:500],
        ip_address=request.META.get("REMOTE_ADDR") or None,
    )


def record_access(
    request: HttpRequest,
    *,
    patient: models.Model,
    action: str,
    subject: models.Model | None = None,
) -> AccessLog:
    """Log that request.user performed `action` on `subject` (default: the patient)."""
    subject = subject if subject is not None else patient
    row = _row(request, patient_id=patient.pk, action=action, subject=subject)
    row.save()
    return row


def record_list_access(
    request: HttpRequest,
    patients: Iterable[models.Model],
    *,
    action: str = AccessLog.Action.VIEW,
    subject: models.Model | None = None,
) -> list[AccessLog]:
    """One row per distinct patient a list page shows, in one INSERT: a privacy officer
    asks "who saw this patient", never "what did this search return". The subject is
    the patient, or what the list is of (a recalled lot) when it says more."""
    seen: dict[int, models.Model] = {}
    for patient in patients:
        seen.setdefault(patient.pk, patient)
    rows = [
        _row(request, patient_id=pk, action=action, subject=subject or patient)
        for pk, patient in seen.items()
    ]
    return AccessLog.objects.bulk_create(rows) if rows else []
