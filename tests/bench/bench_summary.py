"""Session summary benchmark: print view and PDF for a session with 20 zones.

    .venv/bin/python -m tests.bench.bench_summary [--runs 30]

Builds (once) a signed-off-able draft with 20 injections in the mesochart_bench
database, then times the print view (whole request inside Django, test client)
and the PDF rendering (WeasyPrint, as at signing). Targets: 50 ms and 500 ms median.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))


def _setup() -> None:
    from tests.bench.bench_search import _point_at_bench_database

    _point_at_bench_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)


def _session_with_20_zones(user):
    from django.utils import timezone

    from clinic.models import Jurisdiction, Location
    from patients.models import Patient
    from treatments.models import (
        BodyRegion,
        Compound,
        CompoundCategory,
        CompoundLot,
        Formula,
        FormulaIngredient,
        FormularyRule,
        Indication,
        Injection,
        InjectionLot,
        MapZone,
        TreatmentMap,
        TreatmentSession,
    )

    existing = TreatmentSession.objects.filter(notes="bench: 20 zones").first()
    if existing:
        return existing
    quebec, _ = Jurisdiction.objects.get_or_create(code="CA-QC", defaults={"name": "Québec"})
    location, _ = Location.objects.get_or_create(
        name="Bench clinic", defaults={"jurisdiction": quebec, "address": "1 rue Principale"}
    )
    category = CompoundCategory.objects.get(code="vitamin")
    formula, _ = Formula.objects.get_or_create(
        name="Bench mixture", defaults={"indication": Indication.objects.get(code="cellulite")}
    )
    lots = []
    for name in ("Bench caffeine", "Bench L-carnitine", "Bench vitamin C"):
        compound, _ = Compound.objects.get_or_create(
            name=name, defaults={"category": category, "concentration": 10, "unit": "mg/mL"}
        )
        FormularyRule.objects.get_or_create(
            jurisdiction=quebec, compound=compound, defaults={"status": "permitted"}
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
    patient = Patient.objects.order_by("pk").first() or Patient.objects.create(
        first_name="Hélène", last_name="Gagnon", date_of_birth=date(1979, 3, 8), phototype=3
    )
    treatment_map = TreatmentMap.objects.create(
        patient=patient,
        indication=formula.indication,
        location=location,
        mapped_standing=True,
        mapped_at=timezone.now(),
        planned_sessions=6,
        days_between=14,
        created_by=user,
    )
    session = TreatmentSession.objects.create(
        patient=patient,
        treatment_map=treatment_map,
        location=location,
        practitioner=user,
        performed_at=timezone.now() - timedelta(hours=1),
        notes="bench: 20 zones",
        aftercare="No sauna for 48 hours",
        immediate_reactions="Mild redness",
    )
    for region in BodyRegion.objects.order_by("sort_order")[:20]:
        zone = MapZone.objects.create(treatment_map=treatment_map, region=region)
        injection = Injection.objects.create(
            session=session,
            map_zone=zone,
            region=region,
            formula=formula,
            volume_ml=Decimal("1.5"),
            points=30,
            depth_mm=4,
            needle_length_mm=4,
            gauge=30,
            technique="nappage",
        )
        for lot in lots:
            InjectionLot.objects.create(injection=injection, compound=lot.compound, lot=lot)
    return session


def _median(samples):
    return statistics.median(samples), sorted(samples)[max(int(len(samples) * 0.95) - 1, 0)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    _setup()
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from treatments.models import TreatmentSession
    from treatments.summary import render_pdf, with_summary_data

    user, _ = User.objects.get_or_create(username="bench", defaults={"first_name": "Bench"})
    user.groups.add(Group.objects.get(name="Practitioner"))
    session = _session_with_20_zones(user)
    client = Client()
    client.force_login(user)
    url = f"/sessions/{session.pk}/print/"
    assert client.get(url).status_code == 200

    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    assert response.status_code == 200 and response.content.count(b"<tr>") >= 20
    print_median, print_p95 = _median(timings)

    pdf_timings = []
    for _ in range(max(args.runs // 3, 5)):
        fresh = with_summary_data(TreatmentSession.objects.all()).get(pk=session.pk)
        started = time.perf_counter()
        pdf = render_pdf(fresh)
        pdf_timings.append((time.perf_counter() - started) * 1000)
    pdf_median, pdf_p95 = _median(pdf_timings)
    print(f"session with {session.injections.count()} zones, {len(pdf):,} byte PDF")
    print(f"  print view  median {print_median:6.1f} ms  p95 {print_p95:6.1f} ms  (target 50 ms)")
    print(f"  PDF         median {pdf_median:6.1f} ms  p95 {pdf_p95:6.1f} ms  (target 500 ms)")


if __name__ == "__main__":
    main()
