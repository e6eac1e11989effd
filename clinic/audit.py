"""The helpers every patient-record view calls to leave access-log rows (the privacy
officer's search over them is reports/audit.py)."""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest

from clinic.models import AccessLog


def _fields(request: HttpRequest, *, action: str, subject: models.Model) -> dict:
    """What an access-log row says besides the patient."""
    if action not in AccessLog.Action.values:
        raise ValueError(f"unknown access action {action!r}")
    return {
        "user": request.user,
        "action": action,
        "content_type": ContentType.objects.get_for_model(subject),
        "object_id": str(subject.pk),
        "path": request.get_full_path()[:500],
        "ip_address": request.META.get("REMOTE_ADDR") or None,
    }


def record_access(
    request: HttpRequest,
    *,
    patient: models.Model,
    action: str,
    subject: models.Model | None = None,
) -> AccessLog:
    """Log that request.user performed `action` on `subject` (default: the patient)."""
    subject = subject if subject is not None else patient
    row = AccessLog(patient_id=patient.pk, **_fields(request, action=action, subject=subject))
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
    # A list of what one subject is (a recalled lot): its fields once, not per patient.
    shared = _fields(request, action=action, subject=subject) if subject is not None else None
    rows = [
        AccessLog(patient_id=pk, **(shared or _fields(request, action=action, subject=patient)))
        for pk, patient in seen.items()
    ]
    return AccessLog.objects.bulk_create(rows) if rows else []
