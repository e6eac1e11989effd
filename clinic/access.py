"""Who may see and change what: the permission names, a decorator for pages that show
no single record, and one `get_<object>_for(request, pk, perm)` per kind of record.

Every view checks access through this module; the role that carries each permission
is declared in clinic/roles.py. The permission is checked before any lookup, so a
user without it learns nothing about which records exist (403, never 404).
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from patients.models import Patient
from treatments.models import TreatmentMap, TreatmentSession

VIEW_DEMOGRAPHICS = "clinic.view_demographics"
CHANGE_DEMOGRAPHICS = "clinic.change_demographics"
VIEW_CLINICAL = "clinic.view_clinical_record"
CHANGE_CLINICAL = "clinic.change_clinical_record"
RECORD_INJECTIONS = "clinic.record_injections"
VIEW_SESSION_LIST = "clinic.view_session_list"
VIEW_AUDIT = "clinic.view_audit"


def require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def requires(perm: str) -> Callable:
    """For views that show no single record (lists, searches)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            require_perm(request, perm)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def get_patient_for(request: HttpRequest, pk: int, perm: str) -> Patient:
    require_perm(request, perm)
    return get_object_or_404(Patient, pk=pk)


def get_map_for(request: HttpRequest, pk: int, perm: str) -> TreatmentMap:
    """The map with its patient, location and indication."""
    require_perm(request, perm)
    return get_object_or_404(
        TreatmentMap.objects.select_related("patient", "location__jurisdiction", "indication"),
        pk=pk,
    )


def get_session_for(request: HttpRequest, pk: int, perm: str, queryset=None) -> TreatmentSession:
    """The session with what every session page shows; `queryset` adds to it (summaries)."""
    require_perm(request, perm)
    if queryset is None:
        queryset = TreatmentSession.objects.all()
    return get_object_or_404(
        queryset.select_related(
            "patient", "treatment_map__indication", "location__jurisdiction", "practitioner"
        ),
        pk=pk,
    )
