"""Session summary benchmark: print view and PDF for a session with 20 zones.

    .venv/bin/python -m tests.bench.bench_summary [--zones 20] [--runs 30]

main() builds (once) a draft with 20 injections in the mesochart_bench database,
then times the print view (whole request inside Django, test client) and the PDF
rendering (WeasyPrint, as at signing). Targets: 50 ms and 500 ms median.

The draft is written by the application's own write service (save_session), so
the benchmark follows the session model as it changes. run() works on whatever
database Django is already set up with: the test suite calls it at a tiny size
(tests/bench/test_benchmarks_run.py) so that the benchmark cannot rot unnoticed.
"""

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))

COMPOUNDS = ("Bench caffeine", "Bench L-carnitine", "Bench vitamin C")


def _catalogue():
    """A location in Québec and a three-compound formula on its formulary, with a lot each."""
    from clinic.models import Jurisdiction, Location
    from treatments.models import (
        Compound,
        CompoundCategory,
        CompoundLot,
        Formula,
        FormulaIngredient,
        FormularyRule,
        Indication,
    )

    quebec, _ = Jurisdiction.objects.get_or_create(code="CA-QC", defaults={"name": "Québec"})
    location, _ = Location.objects.get_or_create(
        name="Bench clinic", defaults={"jurisdiction": quebec, "address": "1 rue Principale"}
    )
    category = CompoundCategory.objects.get(code="vitamin")
    formula, _ = Formula.objects.get_or_create(
        name="Bench mixture", defaults={"indication": Indication.objects.get(code="cellulite")}
    )
    lots = []
    for name in COMPOUNDS:
        compound, _ = Compound.objects.get_or_create(
            name=name, defaults={"category": category, "concentration": 10, "unit": "mg/mL"}
        )
        FormularyRule.objects.get_or_create(
            jurisdiction=location.jurisdiction, compound=compound, defaults={"status": "permitted"}
        )
        FormulaIngredient.objects.get_or_create(
            formula=formula, compound=compound, defaults={"amount_per_ml": 2, "unit": "mg"}
        )
        lot, _ = CompoundLot.objects.get_or_create(
            compound=compound,
            lot_number=f"{name[-4:].upper()}-01",
            defaults={"expiry_date": date.today() + timedelta(days=400)},
        )
        lots.append(lot)
    return location, formula, lots


def session_with_zones(user, zones: int = 20):
    """A draft with one injection (three lots) in each of `zones` regions; made once."""
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone

    from patients.models import Patient
    from treatments.models import (
        BodyRegion,
        Injection,
        MapZone,
        NeedleRule,
        TreatmentMap,
        TreatmentSession,
    )
    from treatments.services.sessions import PlannedInjection, save_session

    notes = f"bench: {zones} zones"
    # Only a complete one: an interrupted or older build is not reused.
    existing = (
        TreatmentSession.objects.filter(notes=notes, status=TreatmentSession.Status.DRAFT)
        .annotate(
            zone_count=Count("injections", distinct=True),
            lot_count=Count("injections__lots"),
        )
        .filter(zone_count=zones, lot_count=zones * len(COMPOUNDS))
        .first()
    )
    if existing:
        return existing
    regions = list(BodyRegion.objects.active().order_by("sort_order")[:zones])
    if len(regions) < zones:
        raise SystemExit(f"only {len(regions)} body regions: cannot treat {zones} zones")

    with transaction.atomic():
        location, formula, lots = _catalogue()
        patient = Patient.objects.active().order_by("pk").first() or Patient.objects.create(
            first_name="Hélène", last_name="Gagnon", date_of_birth=date(1979, 3, 8), phototype=3
        )
        treatment_map = TreatmentMap.objects.create(
            patient=patient,
            indication=formula.indication,
            location=location,
            mapped_standing=True,
            mapped_at=timezone.now() - timedelta(hours=2),  # before the session
            planned_sessions=6,
            days_between=14,
            created_by=user,
        )
        rule = NeedleRule.objects.for_patient(patient)  # the default: no reason needed
        needle = rule.length_mm if rule else Decimal("4")
        planned = []
        for region in regions:
            zone = MapZone.objects.create(treatment_map=treatment_map, region=region)
            injection = Injection(
                map_zone=zone,
                region=region,
                formula=formula,
                volume_ml=Decimal("1.5"),
                points=30,
                depth_mm=4,
                needle_length_mm=needle,
                gauge=30,
                technique="nappage",
            )
            planned.append(PlannedInjection(injection, lots))
        session = TreatmentSession(
            patient=patient,
            treatment_map=treatment_map,
            location=location,
            practitioner=user,
            performed_at=timezone.now() - timedelta(hours=1),
            notes=notes,
            aftercare="No sauna for 48 hours",
            immediate_reactions="Mild redness",
        )
        return save_session(session=session, injections=planned, expected_version=None)


@dataclass(frozen=True)
class SummaryResult:
    zones: int
    runs: int
    print_status: int
    print_zones_shown: int  # injections shown with their region, mixture and lots
    print_median_ms: float
    print_p95_ms: float
    pdf_runs: int
    pdf: bytes  # the last PDF drawn
    pdf_median_ms: float
    pdf_p95_ms: float


def _injections_shown(session, page: str) -> int:
    """How many of the session's injections the page shows with what was recorded:
    region, mixture and each lot."""
    import re

    from django.utils.html import escape

    # Typed values are isolated (<bdi>) and may carry break opportunities (<wbr>).
    page = re.sub(r"</?bdi>|<wbr>", "", page)
    shown = 0
    for injection in session.injections.prefetch_related("lots"):
        recorded = [injection.region_label, injection.formula_name]
        recorded += [f"lot {used.lot_number}" for used in injection.lots.all()]
        shown += all(text and escape(text) in page for text in recorded)
    return shown


def run(*, zones: int = 20, runs: int = 30) -> SummaryResult:
    """Time the print view `runs` times and the PDF about a third as often (at least
    five times, unless fewer runs were asked for). Prints the figures."""
    from tests.bench.bench_search import bench_client, median_and_p95
    from treatments.models import TreatmentSession
    from treatments.summary import render_pdf, with_summary_data

    client, user = bench_client({"first_name": "Bench"})
    session = session_with_zones(user, zones)
    url = f"/sessions/{session.pk}/print/"
    response = client.get(url)  # warm caches
    assert response.status_code == 200, f"print view: HTTP {response.status_code}"

    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    assert response.status_code == 200, f"print view: HTTP {response.status_code}"
    shown = _injections_shown(session, response.content.decode())
    assert shown == zones, f"the print view shows {shown} of {zones} injections in full"
    print_median, print_p95 = median_and_p95(timings)

    pdf_runs = max(runs // 3, min(5, runs))
    pdf_timings = []
    for _ in range(pdf_runs):
        fresh = with_summary_data(TreatmentSession.objects.all()).get(pk=session.pk)
        started = time.perf_counter()
        pdf = render_pdf(fresh)
        pdf_timings.append((time.perf_counter() - started) * 1000)
    pdf_median, pdf_p95 = median_and_p95(pdf_timings)
    injected = session.injections.count()
    print(f"session with {injected} zones, {len(pdf):,} byte PDF")
    print(f"  print view  median {print_median:6.1f} ms  p95 {print_p95:6.1f} ms  (target 50 ms)")
    print(f"  PDF         median {pdf_median:6.1f} ms  p95 {pdf_p95:6.1f} ms  (target 500 ms)")
    return SummaryResult(
        zones=injected,
        runs=runs,
        print_status=response.status_code,
        print_zones_shown=shown,
        print_median_ms=print_median,
        print_p95_ms=print_p95,
        pdf_runs=pdf_runs,
        pdf=pdf,
        pdf_median_ms=pdf_median,
        pdf_p95_ms=pdf_p95,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zones", type=int, default=20)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if args.zones < 1 or args.runs < 1:
        parser.error("--zones and --runs must be at least 1")
    from tests.bench.bench_search import setup_bench_database

    setup_bench_database()
    run(zones=args.zones, runs=args.runs)


if __name__ == "__main__":
    main()
