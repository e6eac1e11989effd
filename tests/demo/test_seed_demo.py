"""manage.py seed_demo: a tiny run makes records the application accepts as its own (the
models' rules, the signing rules, the pages), the showcase patient and the recall lot,
stored PDFs that match their hash; it refuses a database with real patients, a second
run adds patients, and the application writes normally afterwards."""

import hashlib
import random

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from demo.catalogue import RECALL_LOT
from demo.data import DEMO_DOMAIN, LONG_HISTORY_EMAIL
from patients.models import Consent, Measurement, Patient, Photo
from tests.factories import PatientFactory
from tests.treatments.test_map_schedule import (
    needs_attention_in_python,
    schedules_as_stored,
    schedules_from_records,
)
from treatments.models import (
    CompoundLot,
    Injection,
    InjectionLot,
    LotSession,
    LotTotal,
    MapZone,
    SideEffect,
    TreatmentMap,
    TreatmentSession,
)
from treatments.services.sessions import signing_problems

TINY = {"patients": 20, "long_history": 5, "recall_uses": 30, "random_seed": 7}


def seed(**options):
    call_command("seed_demo", **{**TINY, **options})


def sample(queryset, size=25):
    rows = list(queryset)
    return random.Random(1).sample(rows, min(size, len(rows)))  # noqa: S311


@pytest.mark.django_db(transaction=True)
def test_a_tiny_run_makes_valid_records(client_for, practitioner):
    seed()
    demo = Patient.objects.filter(email__endswith="@" + DEMO_DOMAIN)
    assert demo.count() == 21  # and the long-history patient
    for model in (
        Patient,
        Consent,
        Measurement,
        TreatmentMap,
        MapZone,
        TreatmentSession,
        Injection,
        InjectionLot,
        SideEffect,
        Photo,
    ):
        for row in sample(model.objects.all()):
            row.full_clean()
    signed = TreatmentSession.objects.filter(status="signed")
    assert signed.exists() and TreatmentSession.objects.filter(status="draft").exists()
    for session in sample(signed):
        # Everything signing checks holds: consents in force, needles, formulary.
        assert signing_problems(session) == [], session.pk
    for lot_use in sample(InjectionLot.objects.select_related("lot", "injection__session")):
        assert lot_use.lot.expiry_date >= lot_use.injection.session.performed_at.date()
        assert lot_use.lot_number == lot_use.lot.lot_number

    showcase = Patient.objects.get(email=LONG_HISTORY_EMAIL)
    sessions = TreatmentSession.objects.filter(patient=showcase)
    assert sessions.count() == sessions.filter(status="signed").count() == 5
    for session in sessions:
        assert session.injections.count() == 6
        with default_storage.open(session.pdf.name) as stored:
            assert hashlib.sha256(stored.read()).hexdigest() == session.pdf_sha256

    recall = CompoundLot.objects.get(lot_number=RECALL_LOT)
    uses = InjectionLot.objects.filter(lot=recall)
    assert uses.count() == 30
    assert uses.values("injection__session__patient").distinct().count() > 1

    client = client_for(practitioner)
    bulk = signed.exclude(patient=showcase).first()
    for url in (
        reverse("patients:chart", args=[showcase.pk]),
        reverse("patients:chart", args=[bulk.patient_id]),
        reverse("treatments:session", args=[bulk.pk]),
        reverse("treatments:session_print", args=[bulk.pk]),
        reverse("treatments:lot_recall", args=[recall.pk]),
        reverse("treatments:map", args=[bulk.treatment_map_id]),
    ):
        assert client.get(url).status_code == 200, url
    stored = client.get(reverse("treatments:session_pdf", args=[sessions.first().pk]))
    assert stored.status_code == 200
    assert stored["X-Content-SHA256"] == sessions.first().pdf_sha256
    # A signed session made in bulk has no stored PDF: a 404 that says so, never a PDF
    # drawn afresh as if it were the signed one.
    assert client.get(reverse("treatments:session_pdf", args=[bulk.pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_triggers_and_sequences_work_after_a_run():
    seed(long_history=1)
    signed = TreatmentSession.objects.filter(status="signed").first()
    with pytest.raises(DatabaseError), transaction.atomic():
        TreatmentSession.objects.filter(pk=signed.pk).update(notes="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        Patient.objects.filter(pk=signed.patient_id).delete()
    newest = max(Patient.objects.values_list("chart_number", flat=True))
    patient = PatientFactory()  # the normal path: Patient.save() takes a chart number
    assert patient.chart_number > newest
    assert patient.pk > max(Patient.objects.exclude(pk=patient.pk).values_list("pk", flat=True))
    # Generated rows have no history; the application's writes do.
    assert Patient.pgh_event_model.objects.filter(pgh_obj=patient).count() == 1
    assert not Patient.pgh_event_model.objects.exclude(pgh_obj=patient).exists()


@pytest.mark.django_db(transaction=True)
def test_a_second_run_adds_patients_and_keeps_the_showcase_records():
    seed()
    seed(patients=10, random_seed=8)
    assert Patient.objects.count() == 31
    assert Patient.objects.filter(email=LONG_HISTORY_EMAIL).count() == 1
    assert len(set(Patient.objects.values_list("chart_number", flat=True))) == 31
    assert InjectionLot.objects.filter(lot__lot_number=RECALL_LOT).count() == 30
    # What the triggers would have written for the rows copied in, both runs.
    assert schedules_as_stored() == schedules_from_records()
    per_lot = LotSession.objects.values("lot").annotate(
        p=Count("patient", distinct=True), s=Count("session", distinct=True), i=Sum("uses")
    )
    expected = {row["lot"]: (row["p"], row["s"], row["i"]) for row in per_lot.order_by()}
    kept = {t.lot_id: (t.patients, t.sessions, t.injections) for t in LotTotal.objects.all()}
    assert kept == expected and expected
    now = timezone.now()
    stored = dict(SideEffect.objects.with_attention(now).values_list("pk", "needs_attention"))
    assert stored == {e.pk: needs_attention_in_python(e, now) for e in SideEffect.objects.all()}
    assert any(stored.values())


@pytest.mark.django_db
def test_refuses_a_database_with_real_patients():
    PatientFactory(email="jeanne@example.org")
    with pytest.raises(CommandError, match="did not make"):
        seed()
    assert Patient.objects.count() == 1
    assert not TreatmentSession.objects.exists()
