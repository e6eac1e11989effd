from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils import timezone

from clinic.signals import SIGNED_IN_AT


class SignInLifetimeMiddleware:
    """End a sign-in SIGN_IN_MAX_AGE after it began, however active the user is.

    Idle sign-out is the session's own expiry (SESSION_COOKIE_AGE, renewed on
    every request). After logout the request goes on as anonymous, and
    LoginRequiredMiddleware sends it to the sign-in page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(SIGNED_IN_AT)
            began = datetime.fromtimestamp(started, tz=UTC) if started else None
            if began is None or timezone.now() - began > settings.SIGN_IN_MAX_AGE:
                logout(request)
                messages.info(request, "Your sign-in has expired. Please sign in again.")
        return self.get_response(request)
