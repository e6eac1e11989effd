"""Lots: find one, recall it (every patient who received it, with their contacts, as a
page, a CSV file and a printable list), and quarantine it."""

import csv
import re
from collections.abc import Iterator
from itertools import islice

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from clinic.access import VIEW_CLINICAL, requires
from clinic.audit import record_list_access
from clinic.models import AccessLog
from clinic.numbers import plain
from clinic.paging import OffsetPage
from clinic.replica import reads_on_replica
from treatments.forms.lots import QuarantineForm
from treatments.models import CompoundLot, TreatmentSession
from treatments.services.lots import (
    ANY_SESSION,
    change_quarantine,
    may_change_quarantine,
    quarantine_history,
    recall_rows,
    recall_totals,
    recipients,
    session_url_pattern,
)

RECALL_PAGE_SIZE = 25  # patients per page


@require_GET
@requires(VIEW_CLINICAL)
def lot_search(request: HttpRequest) -> HttpResponse:
    term = request.GET.get("q", "").strip()[:60]
    lots = CompoundLot.objects.select_related("compound")
    if term:
        lots = lots.filter(Q(lot_number__icontains=term) | Q(compound__name__icontains=term))
    else:
        lots = lots.order_by("-received_on", "-id")  # the latest deliveries first
    return render(request, "treatments/lot_search.html", {"lots": list(lots[:50]), "q": term})


def _recalled_lot(pk: int) -> CompoundLot:
    return get_object_or_404(CompoundLot.objects.select_related("compound"), pk=pk)


@require_GET
@requires(VIEW_CLINICAL)
@reads_on_replica
def lot_recall(request: HttpRequest, pk: int) -> HttpResponse:
    """The patients who received this lot, a page at a time, with how to reach them."""
    lot = _recalled_lot(pk)
    page = OffsetPage.of(recipients(lot), request.GET.get("page"), RECALL_PAGE_SIZE)
    rows = recall_rows(lot, page.object_list)
    # Reading the list is a view (one row per patient on this page, in one insert); the
    # CSV file and the printed list are logged as what they are.
    record_list_access(request, page.object_list, action=AccessLog.Action.VIEW, subject=lot)
    may_change = may_change_quarantine(request.user, lifting=lot.is_quarantined)
    return render(
        request,
        "treatments/lot_recall.html",
        {
            "lot": lot,
            "rows": rows,
            "page": page,
            "totals": recall_totals(lot),
            "history": quarantine_history(lot),
            "quarantine_form": QuarantineForm() if may_change else None,
        },
    )


@require_GET
@requires(VIEW_CLINICAL)
@reads_on_replica
def lot_recall_print(request: HttpRequest, pk: int) -> HttpResponse:
    """Every patient who received the lot, as a contact list to print (for calls and
    letters)."""
    lot = _recalled_lot(pk)
    rows = recall_rows(lot, list(recipients(lot)))
    record_list_access(
        request, [row.patient for row in rows], action=AccessLog.Action.PRINT, subject=lot
    )
    return render(
        request,
        "treatments/lot_recall_print.html",
        {"lot": lot, "rows": rows, "totals": recall_totals(lot), "printed_at": timezone.now()},
    )


# The column names in the language of the person downloading; the values keep one
# format whatever the language (dot decimals, ISO dates), for the tools that read them.
CSV_HEADER = [
    _("Chart number"),
    _("Last name"),
    _("First name"),
    _("Date of birth"),
    _("Phone"),
    _("Email"),
    _("Address"),
    _("Session date"),
    _("Session status"),
    _("Location"),
    _("Zones"),
    _("Mixture injected (mL)"),
    _("Compound"),
    _("Compound received"),
    _("Unit"),
    _("Session link"),
]


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or a
    carriage return) would run as a formula, so it is quoted with a leading '."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Line:
    """csv.writer's file: hands back each line written, for a streamed response."""

    def write(self, line: str) -> str:
        return line


@require_GET
@requires(VIEW_CLINICAL)
@reads_on_replica
def lot_recall_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The recall as a spreadsheet: one line per patient and session, every amount of
    the lot's compound (a lot dosed in two units gives one line per unit).

    Streamed, CSV_CHUNK patients at a time (a lot may reach 30,000 patients): each
    chunk's patients are access-logged before their lines are sent, so nothing leaves
    unlogged and the whole list is never held in memory."""
    lot = _recalled_lot(pk)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", lot.lot_number).strip("-") or str(lot.pk)
    response = StreamingHttpResponse(
        _recall_lines(request, lot), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="recall-lot-{name}.csv"'
    return response


CSV_CHUNK = 500  # patients read, logged and written at a time


def _recall_lines(request: HttpRequest, lot: CompoundLot) -> Iterator[str]:
    writer = csv.writer(_Line())
    link = request.build_absolute_uri(session_url_pattern())  # the same but for the id
    statuses = {value: str(label) for value, label in TreatmentSession.Status.choices}
    zone = timezone.get_current_timezone()  # the clinic's clock, looked up once
    yield "\ufeff"  # so spreadsheets read the accents as UTF-8
    yield writer.writerow(CSV_HEADER)
    patients = recipients(lot).iterator(chunk_size=CSV_CHUNK)
    while chunk := list(islice(patients, CSV_CHUNK)):
        record_list_access(request, chunk, action=AccessLog.Action.EXPORT, subject=lot)
        lines = [
            writer.writerow(cells)
            for row in recall_rows(lot, chunk)
            for cells in _csv_cells(row, safe_cell(lot.compound.name), link, statuses, zone)
        ]
        yield "".join(lines)


def _csv_cells(row, compound: str, link: str, statuses: dict, zone) -> Iterator[list]:
    """A patient's lines. Text people typed goes through safe_cell; what the application
    writes itself (chart number, dates, statuses, decimals, units, links) cannot start a
    formula and is written as it is."""
    patient = row.patient
    person = [
        patient.chart_number,
        safe_cell(patient.last_name),
        safe_cell(patient.first_name),
        f"{patient.date_of_birth:%Y-%m-%d}",
        safe_cell(patient.phone),
        safe_cell(patient.email),
        safe_cell(" ".join(patient.address.split())),  # one line per record
    ]
    for session in row.sessions:
        for amount, unit in session.amount_list():
            yield [
                *person,
                f"{session.performed_at.astimezone(zone):%Y-%m-%d %H:%M}",
                statuses[session.status],
                safe_cell(session.location),
                safe_cell("; ".join(session.zones)),
                plain(session.volume_ml),
                compound,
                plain(amount),
                unit,
                link.replace(ANY_SESSION, str(session.id)),
            ]


@require_POST
def lot_quarantine(request: HttpRequest, pk: int) -> HttpResponse:
    """Quarantine the lot, or lift its quarantine, with a reason (who and when are
    recorded on the lot and in its history)."""
    # What the button said, not the lot's state now: a second click on "Quarantine"
    # must be refused as already done, never lift what the first one put in place.
    lifting = request.POST.get("action") == "lift"
    if not may_change_quarantine(request.user, lifting=lifting):
        raise PermissionDenied  # before the lookup: learns nothing of which lots exist
    lot = _recalled_lot(pk)
    form = QuarantineForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["reason"])
        change_quarantine(
            lot=lot, user=request.user, reason=form.cleaned_data["reason"], lifting=lifting
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if lifting:
            messages.success(
                request,
                gettext("The quarantine of lot %(number)s is lifted.") % {"number": lot.lot_number},
            )
        else:
            messages.success(
                request,
                gettext(
                    "Lot %(number)s of %(compound)s is quarantined: it can no longer be chosen "
                    "for an injection."
                )
                % {"number": lot.lot_number, "compound": lot.compound.name},
            )
    if request.user.has_perm(VIEW_CLINICAL):
        return redirect("treatments:lot_recall", pk=lot.pk)
    return redirect(reverse("admin:treatments_compoundlot_change", args=[lot.pk]))
