from django.http import HttpRequest

from clinic.access import ACCESS_CONSOLE, VIEW_AUDIT, VIEW_DEMOGRAPHICS, VIEW_SESSION_LIST


def navigation(request: HttpRequest) -> dict:
    """What the navigation bar may show to this user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_patients": user.has_perm(VIEW_DEMOGRAPHICS),
        "nav_sessions": user.has_perm(VIEW_SESSION_LIST),
        "nav_audit": user.has_perm(VIEW_AUDIT),
        "nav_catalogue": user.is_staff or user.has_perm(ACCESS_CONSOLE),
    }
