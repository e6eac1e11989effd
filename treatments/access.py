"""`get_<object>_for` for the records treatments owns (clinic/access.py has the permissions)."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from clinic.access import require_perm
from treatments.models import TreatmentMap, TreatmentSession


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
