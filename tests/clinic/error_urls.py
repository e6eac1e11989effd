"""The application's URLconf plus pages that fail, for the error-page tests."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.urls import path

from clinic.urls import handler400, handler500, urlpatterns  # noqa: F401  (Django reads them)

NO_SERVER_HERE = "/nonexistent-mesochart-socket-folder"


@login_not_required
def boom(request):
    raise RuntimeError("a bug in a view")


@login_not_required
def bad_sql(request):
    """A bug that reaches the database: a ProgrammingError, with the server up."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    return HttpResponse("unreachable")


def database_goes_away(request):
    """The view succeeds, then the database is gone before the session is saved (the
    session middleware saves it on the way out: a page that changes the session, since a
    plain read no longer saves it, clinic/session_store.py). The test restores the connection."""
    request.session["last_page"] = request.path
    connection.close()
    connection.settings_dict["HOST"] = NO_SERVER_HERE
    return HttpResponse("done")


def session_deleted_meanwhile(request):
    """As if the user signed out in another tab while this request ran, on a page that
    changes the session (so the middleware saves it on the way out)."""
    from django.contrib.sessions.models import Session

    request.session["last_page"] = request.path
    Session.objects.filter(session_key=request.session.session_key).delete()
    return HttpResponse("done")


urlpatterns = [
    *urlpatterns,
    path("signed-out-meanwhile/", session_deleted_meanwhile),
    path("boom/", boom),
    path("bad-sql/", bad_sql),
    path("gone/", database_goes_away),
]
