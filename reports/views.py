"""Pages that read both apps: the dashboard, the access-log search, the FHIR download."""

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clinic.access import VIEW_AUDIT, VIEW_CLINICAL, requires
from clinic.audit import record_access, record_list_access
from clinic.models import AccessLog
from clinic.paging import OffsetPage
from clinic.replica import reads_on_replica
from patients.access import get_patient_for
from patients.models import Patient
from reports import dashboard
from reports.audit import search_access_log
from reports.fhir import PatientRecord, bundle_chunks
from reports.forms import AuditSearchForm


def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: the day's sessions and appointments, patients due for a session,
    drafts, follow-ups needing attention and lots near expiry, as the role may see."""
    board = dashboard.build(request.user)
    record_list_access(request, board.patients())
    return render(request, "home.html", {"board": board, **board.sections})


@require_GET
@requires(VIEW_AUDIT)
@reads_on_replica
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
    rows = list(page.object_list)
    for row in rows:
        row.chart = charts.get(row.patient_id, "")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/audit_search.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "patients": patients,
            "searched_patient": bool(filters.get("patient")),
            "query": query.urlencode(),
        },
    )


@require_GET
@reads_on_replica
def patient_fhir(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The whole record as a FHIR R4 Bundle (JSON download); clinical, like the booklet."""
    patient = get_patient_for(request, pk, VIEW_CLINICAL)
    record_access(request, patient=patient, action=AccessLog.Action.EXPORT)
    # Read now (on the replica when there is one); encoded as it is sent.
    response = StreamingHttpResponse(
        bundle_chunks(PatientRecord.read(patient)),
        content_type="application/fhir+json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{patient.chart_number}-fhir.json"'
    return response
