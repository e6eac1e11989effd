"""What templates may ask about the signed-in user: one object, `can`.

Templates read capabilities only through it ({% if can.change_clinical %}), never
through Django's `perms` or booleans a view passes, so "may this user see the button"
has the same answer as "may this user open the page": each name below is one
permission constant of clinic/access.py, the one the view requires.
"""

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from clinic.access import (
    ACCESS_CONSOLE,
    CHANGE_CLINICAL,
    CHANGE_DEMOGRAPHICS,
    RECORD_INJECTIONS,
    VIEW_AUDIT,
    VIEW_CLINICAL,
    VIEW_DEMOGRAPHICS,
    VIEW_LOTS,
    VIEW_SESSION_LIST,
)


class Capabilities:
    """`can.<name>`: whether the user holds the permission the name stands for."""

    PERMISSIONS = {
        "view_demographics": VIEW_DEMOGRAPHICS,
        "change_demographics": CHANGE_DEMOGRAPHICS,
        "view_clinical": VIEW_CLINICAL,
        "change_clinical": CHANGE_CLINICAL,
        "record_injections": RECORD_INJECTIONS,
        "view_session_list": VIEW_SESSION_LIST,
        "view_audit": VIEW_AUDIT,
        "view_lots": VIEW_LOTS,
    }

    def __init__(self, user) -> None:
        self._user = user
        self._held: dict[str, bool] = {}  # a page asks the same name once per row

    def __getattr__(self, name: str) -> bool:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            perm = self.PERMISSIONS[name]
        except KeyError:
            # Not an AttributeError: a template would read that as False and hide a
            # button without a word. tests/clinic/test_capabilities.py checks every
            # template's names against PERMISSIONS as well.
            raise ImproperlyConfigured(f"no capability named {name!r}") from None
        if name not in self._held:
            self._held[name] = self._user.is_authenticated and self._user.has_perm(perm)
        return self._held[name]

    @property
    def use_console(self) -> bool:
        """The catalogue console (Django's admin): staff, or a role given the console."""
        user = self._user
        return user.is_authenticated and (user.is_staff or user.has_perm(ACCESS_CONSOLE))


def capabilities(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"can": Capabilities(user)} if user is not None else {}
