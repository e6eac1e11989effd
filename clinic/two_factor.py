"""Two-factor sign-in (django-otp): a time-based code from an authenticator app, or a
one-time recovery code.

Who needs it: catalogue administrators and superusers always (they change what may be
injected), everyone when REQUIRE_2FA is on. A user who needs it and has no device is
enrolled at first sign-in. Wrong codes count as failed sign-ins for django-axes, so the
same lockout covers the password and the second factor.
"""

from base64 import b32encode
from functools import wraps

import segno
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_login_failed
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.access import MANAGE_CATALOGUE

RECOVERY_CODES = 10


def needs_second_factor(user) -> bool:
    return bool(
        user.is_authenticated
        and (settings.REQUIRE_2FA or user.is_superuser or user.has_perm(MANAGE_CATALOGUE))
    )


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_exempt(view):
    """Pages a signed-in user reaches before the second factor (enrolment, the code, sign-out)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        return view(*args, **kwargs)

    wrapped.second_factor_exempt = True
    return wrapped


class SecondFactorMiddleware:
    """Send a user who needs a second factor, and has not given it in this sign-in, to
    the code page (or to enrolment when they have no authenticator yet)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "second_factor_exempt", False):
            return None
        if getattr(view_func, "login_required", True) is False:  # public pages
            return None
        user = request.user
        if not needs_second_factor(user) or user.is_verified():
            return None
        target = "two_factor_verify" if has_confirmed_device(user) else "two_factor_setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).lower()


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("home")


def _refuse_code(request: HttpRequest, form: CodeForm) -> HttpResponse | None:
    """A wrong code is a failed sign-in; once locked out, the user is signed out."""
    credentials = {"username": request.user.get_username()}
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if AxesProxyHandler.is_locked(request, credentials):
        logout(request)
        return render(
            request,
            settings.AXES_LOCKOUT_TEMPLATE,
            {
                "failure_limit": settings.AXES_FAILURE_LIMIT,
                "cooloff_timedelta": settings.AXES_COOLOFF_TIME,
            },
            status=429,
        )
    form.add_error(
        "code", gettext("That code is not valid. Check the time on your phone and try again.")
    )
    return None


@second_factor_exempt
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of every sign-in for a user with an authenticator."""
    if request.user.is_verified():
        return redirect(_next(request))
    if not has_confirmed_device(request.user):
        return redirect(f"{reverse('two_factor_setup')}?{urlencode({'next': _next(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = StaticToken.objects.filter(device=device).count()
                messages.warning(
                    request,
                    ngettext(
                        "Recovery code used: %(left)d left. Set up a new phone if you lost it.",
                        "Recovery code used: %(left)d left. Set up a new phone if you lost it.",
                        left,
                    )
                    % {"left": left},
                )
            return redirect(_next(request))
        if (locked := _refuse_code(request, form)) is not None:
            return locked
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)}
    )


@second_factor_exempt
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Enrolment: scan the QR code, type one code to prove it, keep the recovery codes."""
    user = request.user
    if has_confirmed_device(user) and not user.is_verified():
        return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': _next(request)})}")
    device = _pending_device(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            codes = _enrol(user, device)
            otp_login(request, device)
            return render(
                request,
                "registration/two_factor_recovery.html",
                {"codes": codes, "next": _next(request)},
            )
        if (locked := _refuse_code(request, form)) is not None:
            return locked
    uri = device.config_url  # names the issuer (OTP_TOTP_ISSUER) and the user
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff"),
            "secret": _spaced(device),
            "next": _next(request),
        },
    )


PENDING_DEVICE = "two_factor_pending_device"


def _pending_device(request: HttpRequest) -> TOTPDevice:
    """The authenticator being set up in this browser session. Each visit of the page
    draws a new key (and drops older unconfirmed ones), so a key seen by someone who only
    knew the password is never the one the user later confirms."""
    user = request.user
    if request.method == "POST":
        pending = TOTPDevice.objects.filter(
            pk=request.session.get(PENDING_DEVICE), user=user, confirmed=False
        ).first()
        if pending is not None:
            return pending
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, confirmed=False, name="Authenticator app")
    request.session[PENDING_DEVICE] = device.pk
    return device


@transaction.atomic
def _enrol(user, device: TOTPDevice) -> list[str]:
    """Confirm the new authenticator (replacing any older one) and issue fresh recovery codes."""
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    return codes


def _spaced(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
