from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic import dashboard
from clinic.access import VIEW_AUDIT, requires
from clinic.audit import record_list_access, search_access_log
from clinic.forms import AuditSearchForm
from clinic.models import AccessLog
from clinic.paging import OffsetPage
from patients.models import Patient


def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: the day's sessions and appointments, patients due for a session,
    drafts, follow-ups needing attention and lots near expiry, as the role may see."""
    board = dashboard.build(request.user)
    record_list_access(request, board.patients())
    return render(request, "home.html", {"board": board, **board.sections})


@require_GET
@requires(VIEW_AUDIT)
def audit_search(request: HttpRequest) -> HttpResponse:
    """The privacy officer's search: who read, printed or downloaded which record, when."""
    form = AuditSearchForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    if form.is_valid():
        rows, patients = search_access_log(**{k: v for k, v in filters.items() if v})
    else:  # a malformed date: nothing, rather than everything unfiltered
        rows, patients = AccessLog.objects.none(), []
    page = OffsetPage.of(rows, request.GET.get("page"), 50)
    # The log itself holds ids and paths; a search by patient is a look at that patient.
    record_list_access(request, patients)
    charts = dict(
        Patient.objects.filter(pk__in={row.patient_id for row in page.object_list}).values_list(
            "pk", "chart_number"
        )
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clinic/audit_search.html",
        {
            "form": form,
            "page": page,
            "rows": [(row, charts.get(row.patient_id, "")) for row in page.object_list],
            "patients": patients,
            "searched_patient": bool(filters.get("patient")),
            "query": query.urlencode(),
        },
    )


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
