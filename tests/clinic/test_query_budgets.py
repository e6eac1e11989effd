"""Query budgets: the pages of issue 12 run as many queries on a large data set as on a
small one (tests/query_budget.py). An N+1 (a query per session, per zone, per use of a
lot, per compound) shows as a count that follows the data.

The small data is built with the factories; the large adds copies in bulk (_copies), a
few statements whatever the count.
"""

import copy
import hashlib
from datetime import date, timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models.base import ModelState
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from tests.dates import days_from_today, local
from tests.factories import (
    CompoundFactory,
    CompoundLotFactory,
    FormulaFactory,
    MapZoneFactory,
    TreatmentMapFactory,
    TreatmentSessionFactory,
    make_session,
)
from tests.query_budget import assert_no_growth, page_queries
from treatments.models import (
    BodyRegion,
    Compound,
    Injection,
    InjectionLot,
    SideEffect,
    TreatmentSession,
)

pytestmark = pytest.mark.django_db

FAKE_PDF = b"%PDF-1.7 stand-in summary"  # the download serves stored bytes as they are


def _copies(instance, count: int, **per_copy) -> list:
    """`count` copies of a saved row in one INSERT; per_copy values are fixed, or
    functions of the copy's index."""
    made = []
    for index in range(count):
        row = copy.copy(instance)
        row.pk = row.id = None
        row._state = ModelState()
        for name, value in per_copy.items():
            setattr(row, name, value(index) if callable(value) else value)
        made.append(row)
    return type(instance).objects.bulk_create(made)


def _copy_sessions(session, sessions: list) -> None:
    """Give each of `sessions` (copies of `session`) the injections and lots of `session`."""
    for injection in Injection.objects.filter(session=session):
        used = list(InjectionLot.objects.filter(injection=injection))
        copies = _copies(injection, len(sessions), session=lambda i: sessions[i])
        for lot_use in used:
            _copies(lot_use, len(copies), injection=lambda i, copies=copies: copies[i])


def _spread(session, count: int) -> None:
    """`count` more patients, each with a copy of the session's map and session."""
    patient, tmap = session.patient, session.treatment_map
    base = Patient.objects.count() + 500_000
    patients = _copies(
        patient,
        count,
        chart_number=lambda i: f"MC-{base + i:06d}",
        last_name=lambda i: f"{patient.last_name}{i}",
    )
    maps = _copies(tmap, count, patient=lambda i: patients[i])
    sessions = _copies(
        session, count, patient=lambda i: patients[i], treatment_map=lambda i: maps[i]
    )
    _copy_sessions(session, sessions)


def _more_sessions(session, count: int, signed_by) -> None:
    """`count` more signed sessions of the same map, a day apart before `session`."""
    sessions = _copies(
        session, count, performed_at=lambda i: session.performed_at - timedelta(days=i + 1)
    )
    _copy_sessions(session, sessions)
    _sign(TreatmentSession.objects.filter(pk__in=[s.pk for s in sessions]), signed_by)


def _sign(sessions, user) -> None:
    """Signed as sign_session leaves them (its checks and its drawing are not what is
    measured here): the draft -> signed UPDATE with a stored summary."""
    name = default_storage.save("summaries/stand-in.pdf", ContentFile(FAKE_PDF))
    sessions.update(
        status=TreatmentSession.Status.SIGNED,
        signed_at=timezone.now(),
        signed_by=user,
        pdf=name,
        pdf_sha256=hashlib.sha256(FAKE_PDF).hexdigest(),
    )


def _zones(tmap, count: int, formula) -> None:
    for region in BodyRegion.objects.order_by("sort_order", "id")[:count]:
        MapZoneFactory(treatment_map=tmap, region=region, formula=formula)


# --- patient search ----------------------------------------------------------------


SEARCHES = {
    "name": "Tremblay",
    "typo": "Tremblai",
    "chart number": "MC-000001",
    "birth date": "1980-04-12",
    "phone digits": "514-500",
}


@pytest.mark.parametrize("kind", SEARCHES)
def test_patient_search(client_for, practitioner, kind):
    client = client_for(practitioner)

    def add(count):
        base = Patient.objects.count()
        Patient.objects.bulk_create(
            Patient(
                chart_number=f"MC-{base + i + 1:06d}",
                first_name=f"Marie{base + i}",
                last_name="Tremblay" if i % 2 else "Tremblais",
                date_of_birth=date(1980, 4, 12),
                phone=f"514-500-{base + i:04d}",
                phototype=3,
                allergy_status="listed" if i % 3 == 0 else "none_known",
                allergies="Lidocaine" if i % 3 == 0 else "",
                anticoagulant_treatment=i % 4 == 0,
            )
            for i in range(count)
        )

    url = reverse("patients:list") + "?" + f"q={SEARCHES[kind]}"
    add(10)
    client.get(url)  # the content types, once per process
    small = page_queries(client, url)
    add(290)
    large = page_queries(client, url)
    assert_no_growth(f"search by {kind}", small, large)


# --- a map, its sessions, a session's zones ----------------------------------------


@pytest.fixture
def world(practitioner):
    """A patient with a map of two zones, one session (draft), and its lots."""
    formula = FormulaFactory(name="Lipolysis A")
    tmap = TreatmentMapFactory(created_by=practitioner)
    _zones(tmap, 2, formula)
    session = make_session(tmap, practitioner=practitioner)
    return {"map": tmap, "session": session, "formula": formula}


def test_map_page(client_for, practitioner, world):
    client = client_for(practitioner)
    url = reverse("treatments:map", args=[world["map"].pk])
    client.get(url)
    _more_sessions(world["session"], 1, practitioner)
    small = page_queries(client, url)
    _more_sessions(world["session"], 38, practitioner)
    assert world["map"].sessions.count() == 40
    large = page_queries(client, url)
    assert_no_growth("map page", small, large)


@pytest.mark.parametrize("page", ["session", "session_print", "session_pdf"])
def test_session_pages(client_for, practitioner, page):
    """A session of 2 zones, then one of 14: its page, its print view, its stored PDF."""
    client = client_for(practitioner)
    counts = []
    for zones in (2, 14):
        tmap = TreatmentMapFactory(created_by=practitioner)
        _zones(tmap, zones, FormulaFactory(compounds=[CompoundFactory(), CompoundFactory()]))
        session = make_session(tmap, practitioner=practitioner)
        if page == "session_pdf":
            _sign(TreatmentSession.objects.filter(pk=session.pk), practitioner)
        assert session.injections.count() == zones
        url = reverse(f"treatments:{page}", args=[session.pk])
        client.get(url)
        counts.append(page_queries(client, url))
    assert_no_growth(page, *counts)


def test_a_signed_pdf_is_streamed_from_one_row_not_the_summary(client_for, practitioner):
    """The stored file needs the session's row, not its injections and lots (a draft's
    PDF, drawn now, still reads them)."""
    client = client_for(practitioner)
    tmap = TreatmentMapFactory(created_by=practitioner)
    _zones(tmap, 14, FormulaFactory(compounds=[CompoundFactory(), CompoundFactory()]))
    signed, draft = (make_session(tmap, practitioner=practitioner) for _ in range(2))
    _sign(TreatmentSession.objects.filter(pk=signed.pk), practitioner)
    url = reverse("treatments:session_pdf", args=[signed.pk])
    client.get(url)
    read = " ".join(page_queries(client, url).statements)
    assert "treatments_injection" not in read
    drawn = page_queries(client, reverse("treatments:session_pdf", args=[draft.pk]))
    assert "treatments_injection" in " ".join(drawn.statements)


def test_paper_reads_no_follow_ups_and_the_session_page_does(client_for, practitioner):
    """The print view and the booklet show no follow-ups: they do not read them."""
    client = client_for(practitioner)
    tmap = TreatmentMapFactory(created_by=practitioner)
    _zones(tmap, 2, FormulaFactory(compounds=[CompoundFactory()]))
    signed = make_session(tmap, practitioner=practitioner)
    _sign(TreatmentSession.objects.filter(pk=signed.pk), practitioner)
    pages = {
        "print": reverse("treatments:session_print", args=[signed.pk]),
        "booklet": reverse("treatments:booklet", args=[tmap.patient_id]),
        "session": reverse("treatments:session", args=[signed.pk]),
    }
    read = {}
    for name, url in pages.items():
        client.get(url)  # records stored, caches warm
        read[name] = " ".join(page_queries(client, url).statements)
    assert "treatments_sideeffect" not in read["print"]
    assert "treatments_sideeffect" not in read["booklet"]
    assert "treatments_sideeffect" in read["session"]


# --- the dashboard -----------------------------------------------------------------


def _dashboard_rows(practitioner, count: int) -> None:
    """`count` rows in each section of the dashboard."""
    now = timezone.now()
    # Today's drafts, booked again in two days: today, drafts, appointments. A few
    # minutes ago, but never yesterday (a run just after midnight).
    today = TreatmentSessionFactory(
        treatment_map=TreatmentMapFactory(created_by=practitioner, status="completed"),
        performed_at=max(now - timedelta(minutes=5), local(timezone.localdate(now), 0)),
        next_appointment=now + timedelta(days=2),
    )
    # A course due: the last session 20 days ago, nothing booked.
    due = TreatmentSessionFactory(
        treatment_map=TreatmentMapFactory(created_by=practitioner),
        performed_at=now - timedelta(days=20),
        status=TreatmentSession.Status.SIGNED,
    )
    effect = SideEffect.objects.create(
        session=today,
        kind="infection",
        onset=now - timedelta(hours=2),
        severity="moderate",
        recorded_by=practitioner,
    )
    soon = CompoundLotFactory(expiry_date=days_from_today(10))
    held = CompoundLotFactory(expiry_date=days_from_today(20))
    held.quarantine(by=practitioner, reason="Supplier recall notice")
    held.save()
    if count > 1:
        for session in (today, due):
            _spread(session, count - 1)
        _copies(effect, count - 1)
        _copies(soon, count - 1, lot_number=lambda i: f"SOON-{i}")
        _copies(held, count - 1, lot_number=lambda i: f"HELD-{i}")


def test_dashboard(client_for, practitioner):
    from reports import dashboard

    client = client_for(practitioner)
    url = reverse("home")
    _dashboard_rows(practitioner, 1)
    client.get(url)
    small = page_queries(client, url)
    _dashboard_rows(practitioner, 49)
    board = dashboard.build(practitioner)
    for name in ("today", "appointments", "due", "drafts", "flagged"):
        assert board.sections[name].more, name  # more than the 20 shown
    for name in ("expiring_lots", "quarantined_lots"):
        assert len(board.sections[name].rows) == dashboard.LIMIT, name
    large = page_queries(client, url)
    assert_no_growth("dashboard", small, large)


# --- lot recall --------------------------------------------------------------------


@pytest.mark.parametrize("page", ["lot_recall", "lot_recall_csv", "lot_recall_print"])
def test_lot_recall(client_for, practitioner, world, page):
    """The recall of a lot used once, then by 500 sessions of 500 patients (the page is
    paginated; the CSV and the printed list hold every row, in constant queries)."""
    client = client_for(practitioner)
    lot = InjectionLot.objects.filter(injection__session=world["session"]).first().lot
    url = reverse(f"treatments:{page}", args=[lot.pk])
    client.get(url)
    small = page_queries(client, url)
    _spread(world["session"], 499)
    assert InjectionLot.objects.filter(lot=lot).count() == 500  # in one zone of each
    large = page_queries(client, url)
    assert_no_growth(page, small, large)


# --- the console -------------------------------------------------------------------


@pytest.fixture
def console(client_for, catalogue_admin):
    return client_for(catalogue_admin)


def test_console_compound_list(console, catalogue_admin):
    compound = CompoundFactory()
    CompoundLotFactory(compound=compound)
    url = reverse("admin:treatments_compound_changelist")
    console.get(url)
    small = page_queries(console, url)
    _copies(compound, 59, name=lambda i: f"Copied compound {i}")
    assert Compound.objects.count() >= 60
    large = page_queries(console, url)
    assert_no_growth("console compound list", small, large)


def _history(obj, user, count: int) -> None:
    LogEntry.objects.bulk_create(
        LogEntry(
            user=user,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            action_flag=CHANGE,
            change_message=f"Changed concentration ({i}).",
        )
        for i in range(count)
    )


@pytest.mark.parametrize("model", ["compound", "treatmentsession"])
def test_console_history(client_for, practitioner, catalogue_admin, world, model):
    from django.contrib.auth import get_user_model

    if model == "compound":
        obj = world["formula"].ingredients.first().compound
        client = client_for(catalogue_admin)
    else:
        obj = world["session"]
        client = client_for(
            get_user_model().objects.create(username="root", is_staff=True, is_superuser=True)
        )
    url = reverse(f"admin:treatments_{model}_history", args=[obj.pk])
    _history(obj, catalogue_admin, 2)
    client.get(url)
    small = page_queries(client, url)
    _history(obj, catalogue_admin, 58)
    large = page_queries(client, url)
    assert_no_growth(f"{model} history", small, large)
