"""The helpers every patient-record view calls to leave access-log rows, and the
privacy officer's search over them."""

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


def search_access_log(
    *,
    patient: str = "",
    user: str = "",
    date_from=None,
    date_to=None,
    action: str = "",
) -> tuple[models.QuerySet, list]:
    """The access-log rows matching a privacy officer's search (newest first), and the
    patients the patient term matched (by chart number or name; at most 50)."""
    from patients.models import Patient  # clinic is below patients: imported when used

    rows = AccessLog.objects.select_related("user", "content_type")
    matched: list = []
    if patient:
        named = Patient.objects.all()
        for word in patient.split():  # "Ana Gagnon": every word matches one of the names
            named = named.filter(
                models.Q(last_name__icontains=word) | models.Q(first_name__icontains=word)
            )
        patients = Patient.objects.filter(chart_number__iexact=patient) | named
        matched = list(patients.order_by("last_name", "first_name", "id")[:50])
        rows = rows.filter(patient_id__in=[p.pk for p in matched])
    if user:
        rows = rows.filter(user__username__iexact=user)
    if date_from:
        rows = rows.filter(at__date__gte=date_from)
    if date_to:
        rows = rows.filter(at__date__lte=date_to)
    if action:
        rows = rows.filter(action=action)
    return rows.order_by("-at", "-id"), matched
