"""Who may see and change what: the permission names, and the primitives every view
checks access with: `require_perm`, and `requires` for pages that show no single record.

The `get_<object>_for(request, pk, perm)` helpers live in the app that owns the object
(patients/access.py, treatments/access.py) and call `require_perm` first: the permission
is checked before any lookup, so a user without it learns nothing about which records
exist (403, never 404). The role that carries each permission is declared in
clinic/roles.py.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

VIEW_DEMOGRAPHICS = "clinic.view_demographics"
CHANGE_DEMOGRAPHICS = "clinic.change_demographics"
VIEW_CLINICAL = "clinic.view_clinical_record"
CHANGE_CLINICAL = "clinic.change_clinical_record"
RECORD_INJECTIONS = "clinic.record_injections"
VIEW_SESSION_LIST = "clinic.view_session_list"
VIEW_AUDIT = "clinic.view_audit"
ACCESS_CONSOLE = "clinic.access_console"
MANAGE_CATALOGUE = "clinic.manage_catalogue"
VIEW_LOTS = "treatments.view_compoundlot"
# Who may do these is answered by treatments.services.lots.may_change_quarantine.
QUARANTINE_LOT = "treatments.quarantine_compoundlot"
LIFT_LOT_QUARANTINE = "treatments.lift_quarantine_compoundlot"


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
