"""`get_<object>_for` for the records patients owns (clinic/access.py has the permissions)."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from clinic.access import require_perm
from patients.models import Patient


def get_patient_for(request: HttpRequest, pk: int, perm: str) -> Patient:
    require_perm(request, perm)
    return get_object_or_404(Patient, pk=pk)
