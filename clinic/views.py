"""The project's own pages: the health check, the favicon, the 400 and 500 handlers."""

import sys

import psycopg2
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.template import loader
from django.templatetags.static import static
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on their own (PDF and image tabs): point them at ours."""
    return HttpResponseRedirect(static("favicon.svg"))


# Seconds a client is asked to wait when the database is away (a restart takes a few).
RETRY_AFTER_SECONDS = 30

# SQLSTATEs of a server that is not there: connection exceptions (08...), shut down by an
# administrator or a crash, starting up (57P01-3). No code at all: the client lost it
# ("server closed the connection unexpectedly", "could not connect").
OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def _database_unavailable(error: BaseException | None) -> bool:
    """Whether the database going away caused this error, directly or along its chain (the
    session store turns a failed save into SessionInterrupted, a 400). An error the server
    reports (a bug: a ProgrammingError, a deadlock...) has another code, and one Django
    raises itself (a forced update that found no row) no psycopg2 error beneath."""
    while error is not None:
        cause = error.__cause__
        if (
            isinstance(error, DatabaseError)
            and isinstance(cause, psycopg2.Error)
            and (cause.pgcode is None or cause.pgcode.startswith(OUTAGE_SQLSTATES))
        ):
            return True
        error = cause or error.__context__
    return False


def _database_unavailable_page() -> HttpResponse:
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400. A session that could not be saved because the database went away is
    no bad request: the 503 page, as for any other database outage."""
    if _database_unavailable(exception):
        return _database_unavailable_page()
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. Django calls it while handling the exception, so the exception is at hand:
    when the database is down or the connection was lost, say so with a 503 and a Retry-After
    (the request can be repeated once it is back); anything else is a plain 500. Neither
    template needs the database, nor shows the traceback."""
    if _database_unavailable(sys.exc_info()[1]):
        return _database_unavailable_page()
    response = HttpResponseServerError(loader.render_to_string("500.html"))
    add_never_cache_headers(response)
    return response
