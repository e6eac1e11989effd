"""The dashboard runs the day: sessions and bookings, who is due, drafts, flags, lots."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from clinic.models import AccessLog
from patients.models import Patient
from tests.dates import days_from_today, local
from tests.factories import (
    CompoundFactory,
    CompoundLotFactory,
    PatientFactory,
    TreatmentMapFactory,
    TreatmentSessionFactory,
)
from treatments.models import SideEffect

pytestmark = pytest.mark.django_db


def _block(page: str, testid: str) -> str:
    assert f'data-testid="{testid}"' in page, testid
    return page.split(f'data-testid="{testid}"', 1)[1].split("</ul>", 1)[0]


def _name(patient) -> str:
    return f"{patient.last_name}, {patient.first_name}"


@pytest.fixture
def day(now, practitioner):
    """A clinic's day, counted from the frozen `now` (noon today)."""

    def plan(last, **fields):
        return TreatmentMapFactory(
            patient=PatientFactory(last_name=last, phone="514-555-7000"),
            created_by=practitioner,
            mapped_at=now - timedelta(days=90),
            **fields,
        )

    def session(treatment_map, days_ago, **fields):
        return TreatmentSessionFactory(
            treatment_map=treatment_map, performed_at=now - timedelta(days=days_ago), **fields
        )

    made = {}
    # 14 days between sessions, the last 20 days ago, nothing booked: due six days ago.
    made["due"] = plan("Overdue")
    session(made["due"], 20, status="signed")
    # Booked for tomorrow at 10:00 at its last session: on the week's list, not due.
    made["booked"] = plan("Booked")
    session(made["booked"], 20, status="signed", next_appointment=local(days_from_today(1)))
    # An older booking replaced by a later session's (in 20 days): on neither list.
    made["rebooked"] = plan("Rebooked")
    session(made["rebooked"], 30, status="signed", next_appointment=local(days_from_today(3)))
    session(made["rebooked"], 1, status="signed", next_appointment=local(days_from_today(20)))
    # Seen three days ago: due in eleven days.
    made["recent"] = plan("Recent")
    session(made["recent"], 3, status="signed")
    # Its one planned session done: the course is over.
    made["finished"] = plan("Finished", planned_sessions=1)
    session(made["finished"], 40, status="signed")
    # Mapped, never treated: due for a first session.
    made["new"] = plan("Newlymapped")
    # Drafts: one left two days, one from this morning (also today's session).
    made["stale"] = session(plan("Staledraft", status="completed"), 2)
    made["fresh"] = session(plan("Freshdraft", status="completed"), 0.1)
    made["infection"] = SideEffect.objects.create(
        session=made["stale"],
        kind="infection",
        onset=now - timedelta(days=1),
        severity="moderate",
        recorded_by=practitioner,
    )
    compound = CompoundFactory(name="Caffeine test")
    made["soon"] = CompoundLotFactory(
        compound=compound, lot_number="SOON-1", expiry_date=days_from_today(10)
    )
    CompoundLotFactory(compound=compound, lot_number="LATER-1", expiry_date=days_from_today(60))
    CompoundLotFactory(compound=compound, lot_number="GONE-1", expiry_date=days_from_today(-1))
    # Quarantined: listed apart while in date, never among the lots to use up.
    for number, expiry in [("HELD-1", 10), ("HELD-OLD", -1)]:
        held = CompoundLotFactory(
            compound=compound, lot_number=number, expiry_date=days_from_today(expiry)
        )
        held.quarantine(by=practitioner, reason="Supplier recall notice")
        held.save()
    return made


def test_each_section_lists_what_it_should(client_for, practitioner, day):
    page = client_for(practitioner).get(reverse("home")).content.decode()
    patient = {key: m.patient for key, m in day.items() if hasattr(m, "patient")}

    due = _block(page, "due")
    for key in ("due", "new"):
        assert _name(patient[key]) in due, key
    for key in ("booked", "rebooked", "recent", "finished", "stale", "fresh"):
        assert _name(patient[key]) not in due, key
    assert due.index("Overdue") > due.index("Newlymapped")  # mapped 90 days ago: due longest
    assert 'data-testid="due-count">2<' in page

    booked = _block(page, "appointments")
    assert _name(patient["booked"]) in booked and "514-555-7000" in booked
    assert _name(patient["rebooked"]) not in booked
    assert local(days_from_today(1)).strftime("%Y-%m-%d 10:00") in booked

    today = _block(page, "today")
    assert _name(day["fresh"].patient) in today and _name(day["stale"].patient) not in today

    drafts = _block(page, "drafts")
    assert drafts.index(_name(day["stale"].patient)) < drafts.index(_name(day["fresh"].patient))
    assert drafts.count('data-stale="true"') == 1
    assert 'data-testid="stale-drafts-count">1 older than a day<' in page

    assert _name(day["stale"].patient) in _block(page, "flagged")
    lots = _block(page, "expiring-lots")
    assert "SOON-1" in lots and "LATER-1" not in lots and "GONE-1" not in lots
    assert "HELD-1" not in lots
    held = _block(page, "quarantined-lots")
    assert "HELD-1" in held and "Supplier recall notice" in held and "HELD-OLD" not in held
    assert 'data-testid="quarantined-lots-count">1<' in page
    assert reverse("admin:treatments_compoundlot_change", args=[day["soon"].pk]) in lots


def test_empty_sections_say_so(now, client_for, practitioner):
    page = client_for(practitioner).get(reverse("home")).content.decode()
    for empty in [
        "No sessions today.",
        "No appointment booked this week.",
        "Every patient in a course of sessions is booked.",
        "Nothing waiting for a signature.",
        "No flagged side effects.",
        "No lot expires in the next 30 days.",
        "No quarantined lot is still in date.",
    ]:
        assert empty in page


def test_each_patient_shown_is_access_logged_once(client_for, practitioner, day):
    client = client_for(practitioner)
    client.get(reverse("home"))
    logged = list(
        AccessLog.objects.filter(
            user=practitioner, content_type=ContentType.objects.get_for_model(Patient)
        ).values_list("patient_id", flat=True)
    )
    shown = {day[k].patient_id for k in ("due", "new", "booked", "stale", "fresh")}
    assert sorted(logged) == sorted(shown)  # the stale draft is also flagged: one row


def test_the_query_count_does_not_grow_with_the_rows(
    client_for, practitioner, day, now, django_assert_max_num_queries
):
    client = client_for(practitioner)
    client.get(reverse("home"))  # warm the content-type and permission caches
    # Session, user, second factor, permissions (5); one query per section (6); the
    # access-log INSERT (1); saving the session (up to 4). Never one per row.
    with django_assert_max_num_queries(16) as before:
        client.get(reverse("home"))
    for number in range(5):
        plan = TreatmentMapFactory(created_by=practitioner, mapped_at=now - timedelta(days=60))
        TreatmentSessionFactory(
            treatment_map=plan,
            performed_at=now - timedelta(days=3),
            next_appointment=local(days_from_today(2)),
        )
        TreatmentMapFactory(created_by=practitioner)
        CompoundLotFactory(compound=day["soon"].compound, expiry_date=days_from_today(number))
    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(reverse("home"))


def test_an_assistant_runs_the_desk_without_clinical_detail(client_for, assistant, day):
    page = client_for(assistant).get(reverse("home")).content.decode()
    assert _name(day["due"].patient) in _block(page, "due")
    assert _name(day["booked"].patient) in _block(page, "appointments")
    assert 'data-testid="drafts"' in page
    assert day["due"].indication.name not in page  # the indication is clinical
    assert 'data-testid="flagged"' not in page and "Follow-ups needing attention" not in page
    assert "Lots expiring" not in page and "Mark reviewed" not in page
    assert reverse("treatments:map", args=[day["due"].pk]) not in page


@pytest.mark.parametrize(
    ("user_fixture", "lots", "desk"),
    [("catalogue_admin", True, False), ("privacy_officer", False, False)],
)
def test_other_roles_see_their_part_only(request, client_for, day, user_fixture, lots, desk):
    user = request.getfixturevalue(user_fixture)
    page = client_for(user).get(reverse("home")).content.decode()
    assert ('data-testid="expiring-lots"' in page) == lots
    assert ('data-testid="due"' in page) == desk
    assert _name(day["due"].patient) not in page
    assert not AccessLog.objects.filter(user=user).exists()


def test_a_flag_is_reviewed_from_the_dashboard(client_for, practitioner, day):
    client = client_for(practitioner)
    effect = day["infection"]
    url = reverse("treatments:side_effect_review", args=[effect.session_id, effect.pk])
    page = client.get(reverse("home")).content.decode()
    assert f'action="{url}"' in _block(page, "flagged")

    refused = client.post(url, {"note": " ", "return_to": "dashboard"}, follow=True)
    assert refused.redirect_chain[-1][0] == reverse("home")
    assert "Say what was decided" in refused.content.decode()

    response = client.post(url, {"note": "Called: antibiotics", "return_to": "dashboard"})
    assert response.status_code == 302 and response.url == reverse("home")
    effect.refresh_from_db()
    assert effect.reviewed_by == practitioner and effect.review_note == "Called: antibiotics"
    assert "No flagged side effects." in client.get(reverse("home")).content.decode()


def test_reviewing_needs_the_role_and_the_csrf_token(client_for, assistant, practitioner, day):
    effect = day["infection"]
    url = reverse("treatments:side_effect_review", args=[effect.session_id, effect.pk])
    post = {"note": "x", "return_to": "dashboard"}
    assert client_for(assistant).post(url, post).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client_for(practitioner).cookies
    assert strict.post(url, post).status_code == 403
    effect.refresh_from_db()
    assert effect.reviewed_at is None
