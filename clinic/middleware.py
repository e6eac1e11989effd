from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext

from clinic.signals import SIGNED_IN_AT


class SignInLifetimeMiddleware:
    """End a sign-in SIGN_IN_MAX_AGE after it began, however active the user is.

    Idle sign-out is the session's own expiry (SESSION_COOKIE_AGE, renewed by the
    requests: clinic/session_store.py). After logout the request goes on as anonymous, and
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
                messages.info(request, gettext("Your sign-in has expired. Please sign in again."))
        return self.get_response(request)


class RefuseNullBytesMiddleware:
    """A NUL character in a query or form parameter is never meant: PostgreSQL refuses it
    in text ("A string literal cannot contain NUL"), so answer 400 before any view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sources = [request.GET, request.POST] if request.method == "POST" else [request.GET]
        for params in sources:
            for key, values in params.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    return HttpResponseBadRequest(
                        gettext("A parameter holds a NUL character."), content_type="text/plain"
                    )
        return self.get_response(request)


class PrivatePagesMiddleware:
    """Pages seen by a signed-in user carry patient data or may: no browser or proxy keeps
    a copy. Every response to a signed-in user, files, PDFs and exports included, gets
    `private, no-store` here; a view sets Cache-Control itself only to say otherwise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


class RefuseOversizedBodiesMiddleware:
    """A request body larger than REQUEST_BODY_MAX_BYTES is refused (413) from its
    Content-Length, before a byte of it is read: neither Django (DATA_UPLOAD_MAX_MEMORY_SIZE
    does not count files) nor gunicorn bounds an upload's size, and a 200 MB body was
    otherwise received whole before the image check refused it. Placed before anything
    that reads request.POST (the NUL-byte check, CSRF)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponseBadRequest(
                gettext("Malformed Content-Length."), content_type="text/plain"
            )
        limit = settings.REQUEST_BODY_MAX_BYTES
        if length > limit:
            return render(
                request,
                "413.html",
                {
                    "size_mb": length / 1_048_576,
                    "limit_mb": limit // 1_048_576,
                    "image_limit_mb": settings.IMAGE_UPLOAD_MAX_BYTES // 1_048_576,
                },
                status=413,
            )
        return self.get_response(request)
