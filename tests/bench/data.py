"""The benchmark's data: generated once per size, then only looked up.

ensure_data() is the one place that makes it, through generate(): `manage.py seed_demo`.
The showcase records the pages are driven on are then found by find_showcase.

The records looked up are those of the shared seed_demo interface: every demo patient's
email is at demo.mesochart.invalid; the long-history patient is
long-history@demo.mesochart.invalid, with signed sessions that each have a stored PDF;
the recall lot is numbered DEMO-RECALL-1.
"""

import time
from dataclasses import asdict, dataclass
from datetime import date

# seed_demo's own names for what it makes (imported once Django is set up).
from demo.catalogue import RECALL_LOT
from demo.data import DEMO_DOMAIN, LONG_HISTORY_EMAIL


@dataclass(frozen=True)
class Showcase:
    """What the pages are driven on (ids and the text each page must show)."""

    patients: int  # demo patients in the database
    long_patient_id: int
    long_chart_number: str
    long_sessions: int  # signed sessions of the long-history patient
    map_id: int
    session_id: int  # a signed session of the long-history patient, with its stored PDF
    region_label: str  # a zone injected in that session
    region_code: str
    lot_number: str  # a lot used in that zone
    first_lot_number: str  # a lot of the oldest signed session: on the booklet's first page
    recall_lot_id: int
    busiest_lot_id: int  # the lot used most (by injections): the worst ordinary recall
    busiest_lot_number: str
    median_lot_id: int  # the lot at the median of uses among the used ones
    median_lot_number: str
    compound_id: int  # the recall lot's compound
    compound_name: str
    sample_id: int  # the patient the searches look for
    sample_first_name: str
    sample_last_name: str
    sample_chart_number: str
    sample_born: date

    def as_json(self) -> dict:
        return {**asdict(self), "sample_born": self.sample_born.isoformat()}


def demo_patients() -> int:
    from patients.models import Patient

    # seed_demo --patients N makes N patients besides the long-history one.
    return (
        Patient.objects.filter(email__endswith=f"@{DEMO_DOMAIN}")
        .exclude(email=LONG_HISTORY_EMAIL)
        .count()
    )


def ensure_data(patients: int, *, long_history: int = 200, recall_uses: int = 50_000):
    """The showcase, generating the data first if the database holds no demo patient.

    The caller starts from an empty database when the size asked differs from what is
    there (tests/bench/bench.py drops and recreates it)."""
    if demo_patients() == 0:
        started = time.perf_counter()
        generate(patients, long_history=long_history, recall_uses=recall_uses)
        print(f"data generated in {time.perf_counter() - started:.0f} s")
    return find_showcase()


def generate(patients: int, *, long_history: int, recall_uses: int) -> None:
    """`manage.py seed_demo` at that size. The bench database is the benchmark's own
    (tests/bench/bench.py creates it; the suite's tiny run uses the test database), so
    the clients' own patients left by an earlier run are no reason to refuse."""
    from django.core.management import call_command

    call_command(
        "seed_demo",
        patients=patients,
        long_history=long_history,
        recall_uses=recall_uses,
        allow_real_data=True,
    )


def find_showcase() -> Showcase:
    from django.db.models import Count, Sum

    from patients.models import Patient
    from treatments.models import (
        CompoundLot,
        InjectionLot,
        LotSession,
        LotTotal,
        TreatmentSession,
    )

    demo = Patient.objects.filter(email__endswith=f"@{DEMO_DOMAIN}")
    long_patient = Patient.objects.get(email=LONG_HISTORY_EMAIL)
    signed = TreatmentSession.objects.filter(
        patient=long_patient, status=TreatmentSession.Status.SIGNED
    ).exclude(pdf="")
    session = signed.order_by("-performed_at", "-pk").first()
    # The booklet runs oldest first, a page of 20: its first page shows the oldest.
    oldest = (
        TreatmentSession.objects.filter(patient=long_patient, status=TreatmentSession.Status.SIGNED)
        .order_by("performed_at", "pk")
        .first()
    )
    first_lot = InjectionLot.objects.filter(injection__session=oldest).order_by("pk").first()
    injection = session.injections.select_related("region").order_by("pk").first()
    lot = CompoundLot.objects.select_related("compound").get(lot_number=RECALL_LOT)
    busiest = CompoundLot.objects.get(
        pk=LotSession.objects.values("lot")
        .annotate(uses=Sum("uses"))
        .order_by("-uses", "lot")
        .values("lot")[:1]
    )
    used = LotTotal.objects.filter(injections__gt=0).order_by("injections", "lot")
    median = CompoundLot.objects.get(pk=used[used.count() // 2].lot_id)
    # The worst ordinary search: the commonest surname of the data (of six letters or
    # more, so that a letter dropped from it is still a slip the search must find), and
    # the commonest first name among its holders.
    others = demo.exclude(pk=long_patient.pk)
    count = demo_patients()
    named = others.filter(last_name__regex=r"^[A-Za-z]{6,}$")
    surname = (
        named.values("last_name").annotate(n=Count("id")).order_by("-n", "last_name").first()
        or {"last_name": others.order_by("pk").first().last_name}
    )["last_name"]
    holders = others.filter(last_name=surname)
    first_name = (
        holders.values("first_name").annotate(n=Count("id")).order_by("-n", "first_name").first()
    )["first_name"]
    sample = holders.filter(first_name=first_name).order_by("pk").first()
    return Showcase(
        patients=count,
        long_patient_id=long_patient.pk,
        long_chart_number=long_patient.chart_number,
        long_sessions=signed.count(),
        map_id=session.treatment_map_id,
        session_id=session.pk,
        region_label=injection.region_label,
        region_code=injection.region.code,
        lot_number=injection.lots.order_by("pk").first().lot_number,
        first_lot_number=first_lot.lot_number,
        recall_lot_id=lot.pk,
        busiest_lot_id=busiest.pk,
        busiest_lot_number=busiest.lot_number,
        median_lot_id=median.pk,
        median_lot_number=median.lot_number,
        compound_id=lot.compound_id,
        compound_name=lot.compound.name,
        sample_id=sample.pk,
        sample_first_name=sample.first_name,
        sample_last_name=sample.last_name,
        sample_chart_number=sample.chart_number,
        sample_born=sample.date_of_birth,
    )
