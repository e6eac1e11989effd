from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.access import ACCESS_CONSOLE


class ConsoleSite(admin.AdminSite):
    site_header = _("MesoChart catalogue console")
    site_title = _("MesoChart console")
    index_title = _("Catalogue")

    def has_permission(self, request: HttpRequest) -> bool:
        # Staff flag or a role that grants the console: roles are the normal path,
        # so an administrator never has to remember to tick "staff status".
        user = request.user
        return user.is_active and (user.is_staff or user.has_perm(ACCESS_CONSOLE))

    def login(self, request: HttpRequest, extra_context=None):
        # One sign-in page for the whole clinic (with its lockout handling); a
        # signed-in user without the console role gets a plain refusal.
        if request.user.is_authenticated:
            raise PermissionDenied(gettext("Your role does not include the catalogue console."))
        target = resolve_url(settings.LOGIN_URL)
        next_url = request.GET.get("next", request.get_full_path())
        return HttpResponseRedirect(f"{target}?{urlencode({'next': next_url})}")
