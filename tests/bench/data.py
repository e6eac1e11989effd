"""The benchmark's data: generated once per size, then only looked up.

ensure_data() is the one place that makes it, through generate(). Today that builds a
stand-in with the factories and services (generate_stand_in); `manage.py seed_demo`
(issue 12, item 1) will replace it: generate() then calls the command, the stand-in
goes, and the rest (the showcase records the pages are driven on, found by
find_showcase) stays as it is.

The records looked up are those of the shared seed_demo interface: every demo patient's
email is at demo.mesochart.invalid; the long-history patient is
long-history@demo.mesochart.invalid, with signed sessions that each have a stored PDF;
the recall lot is numbered DEMO-RECALL-1.
"""

import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta

DEMO_DOMAIN = "demo.mesochart.invalid"
LONG_HISTORY_EMAIL = f"long-history@{DEMO_DOMAIN}"
RECALL_LOT = "DEMO-RECALL-1"
ZONES_PER_SESSION = 6
# Patients other than the long-history one whose sessions also use the recall lot.
RECALL_PATIENTS = 20


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
    recall_lot_id: int
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

    return Patient.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count()


def ensure_data(patients: int, *, long_history: int = 200, recall_uses: int | None = None):
    """The showcase, generating the data first if the database holds no demo patient.

    The caller starts from an empty database when the size asked differs from what is
    there (tests/bench/bench.py drops and recreates it)."""
    if recall_uses is None:
        recall_uses = ZONES_PER_SESSION * (long_history + RECALL_PATIENTS)
    if demo_patients() == 0:
        started = time.perf_counter()
        generate(patients, long_history=long_history, recall_uses=recall_uses)
        print(f"data generated in {time.perf_counter() - started:.0f} s")
    return find_showcase()


def generate(patients: int, *, long_history: int, recall_uses: int) -> None:
    """The one call to switch to seed_demo (its defaults: 200 sessions, 50,000 uses):

    from django.core.management import call_command
    call_command("seed_demo", patients=patients, long_history=long_history,
                 recall_uses=recall_uses)
    """
    generate_stand_in(patients, long_history=long_history, recall_uses=recall_uses)


def find_showcase() -> Showcase:
    from patients.models import Patient
    from treatments.models import CompoundLot, TreatmentSession

    demo = Patient.objects.filter(email__endswith=f"@{DEMO_DOMAIN}")
    long_patient = Patient.objects.get(email=LONG_HISTORY_EMAIL)
    signed = TreatmentSession.objects.filter(
        patient=long_patient, status=TreatmentSession.Status.SIGNED
    ).exclude(pdf="")
    session = signed.order_by("-performed_at", "-pk").first()
    injection = session.injections.select_related("region").order_by("pk").first()
    lot = CompoundLot.objects.select_related("compound").get(lot_number=RECALL_LOT)
    # A patient from the middle of the list, not the long-history one, whose surname is
    # long enough for a one-letter slip to find it again.
    others = demo.exclude(pk=long_patient.pk).order_by("pk")
    count = demo.count()
    sample = (
        others.filter(last_name__regex=r"^[A-Za-z]{6,}$")[count // 2 :].first()
        or others.filter(last_name__regex=r"^[A-Za-z]{6,}$").first()
        or others.first()
    )
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
        recall_lot_id=lot.pk,
        compound_id=lot.compound_id,
        compound_name=lot.compound.name,
        sample_id=sample.pk,
        sample_first_name=sample.first_name,
        sample_last_name=sample.last_name,
        sample_chart_number=sample.chart_number,
        sample_born=sample.date_of_birth,
    )


# --- The stand-in (until seed_demo) ------------------------------------------------------

LONG_HISTORY_ZONES = (
    "thigh_outer_right",
    "thigh_outer_left",
    "thigh_front_right",
    "thigh_front_left",
    "buttock_right",
    "buttock_left",
)


def generate_stand_in(patients: int, *, long_history: int, recall_uses: int) -> None:
    """`patients` demo patients: one with `long_history` signed sessions of 6 zones, two
    weeks apart, each with a stored PDF; enough others with a draft of 6 zones to use the
    recall lot `recall_uses` times in all; the rest names and birth dates only."""
    from django.db import connection, transaction

    extra_sessions = max(0, -(-(recall_uses - ZONES_PER_SESSION * long_history) // 6))
    plain = max(patients - 1 - extra_sessions, 0)
    _bulk_patients(plain)
    with transaction.atomic():
        practitioner, location, formula, lots = _demo_catalogue()
        _long_history_patient(practitioner, location, formula, lots, long_history)
        for n in range(extra_sessions):
            _patient_with_a_draft(n, practitioner, location, formula, lots)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def _demo_catalogue():
    from clinic.roles import PRACTITIONER
    from tests.factories import CompoundLotFactory, UserFactory
    from tests.live.people import catalogue

    practitioner = UserFactory(username="demo-practitioner", roles=[PRACTITIONER])
    location, formula, lots = catalogue("Demo")
    first = formula.ingredients.order_by("pk").first().compound
    lots[first.name] = CompoundLotFactory(compound=first, lot_number=RECALL_LOT)
    return practitioner, location, formula, lots


def _demo_patient(email: str):
    from tests.factories import PatientFactory

    return PatientFactory(email=email)


def _long_history_patient(practitioner, location, formula, lots, sessions: int) -> None:
    """Sessions every two weeks up to last week, on one map mapped before the first, with
    a treatment consent signed before it; each signed through sign_service."""
    from django.utils import timezone

    from patients.models import ConsentTemplate
    from tests.factories import (
        ConsentTemplateFactory,
        MapZoneFactory,
        TreatmentMapFactory,
        make_scanned_consent,
        make_session,
    )
    from treatments.models import TreatmentSession
    from treatments.services.sessions import sign_session
    from treatments.summary import render_pdf, with_summary_data

    patient = _demo_patient(LONG_HISTORY_EMAIL)
    first = timezone.now() - timedelta(days=14 * sessions)
    template = ConsentTemplate.objects.filter(kind="treatment").order_by("version").first()
    make_scanned_consent(
        patient,
        practitioner,
        template=template or ConsentTemplateFactory(kind="treatment"),
        signed_on=timezone.localdate(first) - timedelta(days=30),
    )
    treatment_map = TreatmentMapFactory(
        patient=patient,
        location=location,
        created_by=practitioner,
        mapped_at=first - timedelta(days=1),
        planned_sessions=sessions,
    )
    for code in LONG_HISTORY_ZONES:
        MapZoneFactory(treatment_map=treatment_map, region_code=code, formula=formula)
    pdf = None
    for n in range(sessions):
        draft = make_session(
            treatment_map,
            lots=lots,
            practitioner=practitioner,
            performed_at=first + timedelta(days=14 * n),
        )
        if pdf is None:
            # One real summary, stored for every session: drawing 200 takes minutes, and
            # the benchmark serves the stored file, it does not read it.
            pdf = render_pdf(with_summary_data(TreatmentSession.objects.all()).get(pk=draft.pk))
        sign_session(session=draft, user=practitioner, render_pdf=lambda session, drawn=pdf: drawn)


def _patient_with_a_draft(n: int, practitioner, location, formula, lots) -> None:
    from tests.factories import MapZoneFactory, TreatmentMapFactory, make_session

    patient = _demo_patient(f"recall-{n}@{DEMO_DOMAIN}")
    treatment_map = TreatmentMapFactory(patient=patient, location=location, created_by=practitioner)
    for code in LONG_HISTORY_ZONES:
        MapZoneFactory(treatment_map=treatment_map, region_code=code, formula=formula)
    make_session(treatment_map, lots=lots, practitioner=practitioner)


def _bulk_patients(count: int) -> None:
    """Names in several locales and birth dates, in batches (chart numbers MC-000001...)."""
    from faker import Faker

    from patients.models import Patient

    fake = Faker(["fr_CA", "en_US", "es_ES", "de_DE"])
    # This generator only: Faker.seed() would reseed every Faker in the process.
    fake.seed_instance(2026)
    batch = []
    for number in range(1, count + 1):
        batch.append(
            Patient(
                chart_number=f"MC-{number:06d}",
                first_name=fake.first_name(),
                last_name=fake.last_name(),
                date_of_birth=date(1940, 1, 1) + timedelta(days=fake.random_int(0, 29000)),
                phone=f"514-{fake.random_int(200, 999)}-{fake.random_int(0, 9999):04d}",
                email=f"patient-{number}@{DEMO_DOMAIN}",
                phototype=fake.random_int(1, 6),
            )
        )
        if len(batch) == 5000:
            Patient.objects.bulk_create(batch)
            batch = []
    if batch:
        Patient.objects.bulk_create(batch)
    _move_chart_number_sequence_past(count)


def _move_chart_number_sequence_past(number: int) -> None:
    """The chart numbers made above are not drawn from the sequence: a patient added
    later (Patient.save) must not be given one of them again."""
    from django.db import connection

    # nextval, not setval: the application's role may draw numbers from the
    # sequence but not set it. One more than needed when it was never drawn from.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(nextval('patients_chart_number_seq')) FROM generate_series("
            "1, %s - (SELECT last_value FROM patients_chart_number_seq) + 1)",
            [number],
        )
