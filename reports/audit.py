"""The privacy officer's search over the access log."""

from django.db import models

from clinic.models import AccessLog
from patients.models import Patient, chart_number_for
from patients.search import fold, name_matches, number_in


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
    rows = AccessLog.objects.select_related("user", "content_type")
    matched: list = []
    if patient:
        # A chart number ("MC-000123", "123") exactly, through its unique index; else the
        # name as the patient search finds it (through the name indexes, archived
        # patients too): never a scan of every patient.
        if digits := number_in(patient.strip()):
            patients = Patient.objects.filter(chart_number=chart_number_for(int(digits)))
        else:
            named = name_matches(fold(patient), include_archived=True, limit=50)
            patients = Patient.objects.filter(pk__in=named)
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
