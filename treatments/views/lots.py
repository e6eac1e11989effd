"""Lots: find one, and every patient and session that received it (a recall)."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from clinic.access import VIEW_CLINICAL, requires
from clinic.audit import record_access
from clinic.models import AccessLog
from treatments.models import CompoundLot, InjectionLot


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


@require_GET
@requires(VIEW_CLINICAL)
def lot_recall(request: HttpRequest, pk: int) -> HttpResponse:
    """Every patient and session that received this lot."""
    lot = get_object_or_404(CompoundLot.objects.select_related("compound"), pk=pk)
    uses = list(
        InjectionLot.objects.filter(lot=lot)
        .select_related(
            "injection__session__patient", "injection__session__location", "injection__region"
        )
        .order_by(
            "injection__session__performed_at",
            "injection__session_id",
            "injection__region__sort_order",
        )
    )
    # One row per session (a lot is often used in several zones of one session).
    by_session: dict[int, dict] = {}
    for use in uses:
        row = by_session.setdefault(
            use.injection.session_id,
            {"session": use.injection.session, "zones": [], "volume": Decimal("0")},
        )
        row["zones"].append(use.injection.region.label)
        row["volume"] += use.injection.volume_ml
    patients = {use.injection.session.patient for use in uses}
    with transaction.atomic():
        for patient in patients:
            record_access(request, patient=patient, action=AccessLog.Action.VIEW, subject=lot)
    return render(
        request,
        "treatments/lot_recall.html",
        {
            "lot": lot,
            "rows": list(by_session.values()),
            "injection_count": len(uses),
            "patient_count": len(patients),
        },
    )
