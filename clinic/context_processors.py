from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    """What the navigation bar may show to this user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_patients": user.has_perm("clinic.view_demographics"),
        "nav_sessions": user.has_perm("clinic.view_session_list"),
        "nav_audit": user.has_perm("clinic.view_audit"),
        "nav_catalogue": user.is_staff or user.has_perm("clinic.access_console"),
    }
