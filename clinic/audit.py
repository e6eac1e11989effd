"""The one helper every patient-record view calls to leave an access-log row."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest

from clinic.models import AccessLog


def record_access(
    request: HttpRequest,
    *,
    patient: models.Model,
    action: str,
    subject: models.Model | None = None,
) -> AccessLog:
    """Log that request.user performed `action` on `subject` (default: the patient)."""
    if action not in AccessLog.Action.values:
        raise ValueError(f"unknown access action {action!r}")
    subject = subject if subject is not None else patient
    return AccessLog.objects.create(
        user=request.user,
        action=action,
        content_type=ContentType.objects.get_for_model(subject),
        object_id=str(subject.pk),
        patient_id=patient.pk,
        path=request.get_full_path()[:500],
        ip_address=request.META.get("REMOTE_ADDR") or None,
    )
