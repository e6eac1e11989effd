"""What the dashboard's lists read is kept by the database itself: MapSchedule (when a
map's next session falls due) follows every write of a map or a session, and
SideEffect.attention_from (from when a follow-up needs the practitioner) every write of
a follow-up, whatever the path; the application's role can write neither."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.database import DENIED, refusal
from tests.factories import PatientFactory, TreatmentMapFactory, TreatmentSessionFactory
from treatments.models import MapSchedule, SideEffect, TreatmentMap, TreatmentSession

pytestmark = pytest.mark.django_db


def schedules_from_records() -> dict[int, tuple]:
    """MapSchedule as it should be, from the maps and sessions themselves, in Python."""
    facts = {}
    for plan in TreatmentMap.objects.all():
        sessions = list(TreatmentSession.objects.filter(treatment_map=plan))
        last = max((s.performed_at for s in sessions), default=None)
        bookings = [s.next_appointment for s in sessions if s.next_appointment]
        facts[plan.pk] = (
            len(sessions),
            last,
            max(bookings, default=None),
            last + timedelta(days=plan.days_between) if last else plan.mapped_at,
            plan.status == TreatmentMap.Status.ACTIVE and len(sessions) < plan.planned_sessions,
        )
    return facts


def schedules_as_stored() -> dict[int, tuple]:
    return {
        row.treatment_map_id: (
            row.sessions,
            row.last_session_at,
            row.booked_until,
            row.due_at,
            row.open,
        )
        for row in MapSchedule.objects.all()
    }


def test_the_schedule_follows_every_write_of_a_map_or_a_session(practitioner):
    plan = TreatmentMapFactory(created_by=practitioner, planned_sessions=2, days_between=14)
    assert schedules_as_stored() == schedules_from_records()
    # Never treated: due since the mapping.
    assert schedules_as_stored()[plan.pk][3] == plan.mapped_at
    first = TreatmentSessionFactory(treatment_map=plan)
    assert schedules_as_stored() == schedules_from_records()
    assert schedules_as_stored()[plan.pk][3] == first.performed_at + timedelta(days=14)
    # A booking given, then moved (a plain UPDATE, as the console would write it).
    booked = timezone.now() + timedelta(days=3)
    TreatmentSession.objects.filter(pk=first.pk).update(next_appointment=booked)
    assert schedules_as_stored()[plan.pk][2] == booked
    # The rhythm changed on the map: the due date moves with it.
    TreatmentMap.objects.filter(pk=plan.pk).update(days_between=7)
    assert schedules_as_stored() == schedules_from_records()
    assert schedules_as_stored()[plan.pk][3] == first.performed_at + timedelta(days=7)
    # The last planned session recorded: nothing left to book.
    TreatmentSessionFactory(treatment_map=plan, performed_at=first.performed_at + timedelta(1))
    assert schedules_as_stored()[plan.pk][4] is False
    assert schedules_as_stored() == schedules_from_records()


@pytest.mark.parametrize("status", ["completed", "abandoned"])
def test_a_map_no_longer_active_is_not_open(practitioner, status):
    plan = TreatmentMapFactory(created_by=practitioner)
    assert schedules_as_stored()[plan.pk][4] is True
    TreatmentMap.objects.filter(pk=plan.pk).update(status=status)
    assert schedules_as_stored()[plan.pk][4] is False


def test_a_draft_moved_to_another_map_moves_both_schedules(practitioner):
    patient = PatientFactory()
    one, other = (TreatmentMapFactory(patient=patient, created_by=practitioner) for _ in "ab")
    session = TreatmentSessionFactory(treatment_map=one)
    TreatmentSession.objects.filter(pk=session.pk).update(treatment_map=other)
    assert schedules_as_stored()[one.pk][0] == 0 and schedules_as_stored()[other.pk][0] == 1
    assert schedules_as_stored() == schedules_from_records()


def test_due_before_is_the_rule_over_every_map(now, practitioner):
    """The dashboard's query against the rule spelt out in Python over every map, for
    maps due or not, booked in the past or the future, archived or not."""
    cases = []
    for days_ago, booking, archived in [
        (20, None, False),
        (20, -2, False),  # a booking already past: due again
        (20, 2, False),  # booked: not listed
        (3, None, False),  # due in eleven days
        (20, None, True),  # the patient archived
        (None, None, False),  # never treated
    ]:
        plan = TreatmentMapFactory(
            patient=PatientFactory(archived=archived), created_by=practitioner
        )
        if days_ago is not None:
            TreatmentSessionFactory(
                treatment_map=plan,
                performed_at=now - timedelta(days=days_ago),
                next_appointment=now + timedelta(days=booking) if booking else None,
            )
        cases.append(plan)
    until = now + timedelta(days=1)

    def due(plan):
        facts = schedules_from_records()[plan.pk]
        return (
            facts[4]
            and not plan.patient.archived
            and facts[3] < until
            and not (facts[2] and facts[2] >= now)
        )

    listed = list(TreatmentMap.objects.due_before(until, now=now))
    facts = schedules_from_records()
    expected = sorted((p for p in cases if due(p)), key=lambda p: (facts[p.pk][3], p.pk))
    assert [p.pk for p in listed] == [p.pk for p in expected]
    assert len(listed) == 3
    assert [(p.due, p.done) for p in listed] == [
        (schedules_from_records()[p.pk][3], schedules_from_records()[p.pk][0]) for p in listed
    ]


def test_the_application_may_read_the_schedule_never_write_it(practitioner):
    plan = TreatmentMapFactory(created_by=practitioner)
    assert (
        refusal(
            "UPDATE treatments_mapschedule SET open = false WHERE treatment_map_id = %s", plan.pk
        )
        == DENIED
    )
    assert refusal("DELETE FROM treatments_mapschedule") == DENIED
    assert schedules_as_stored() == schedules_from_records()


# --- SideEffect.attention_from ------------------------------------------------------------


def needs_attention_in_python(effect: SideEffect, at) -> bool:
    """The follow-up rule from EXPECTED_COURSE, spelt out again for the test (at a
    moment after the effect was recorded)."""
    limit, _ = SideEffect.EXPECTED_COURSE[effect.kind]
    if limit is None:
        return True
    if effect.resolved_at is None:
        return effect.onset + limit <= at
    return effect.resolved_at - effect.onset > limit


def test_the_stored_attention_is_the_rule_for_every_kind(now, practitioner):
    session = TreatmentSessionFactory(
        treatment_map=TreatmentMapFactory(created_by=practitioner),
        performed_at=now - timedelta(days=30),
    )
    effects = []
    for kind, (limit, _) in SideEffect.EXPECTED_COURSE.items():
        span = limit or timedelta(days=1)
        # Ongoing within its course, resolved within it, resolved later than it.
        for began, resolved_after in ((span / 2, None), (span * 3, span / 2), (span * 3, span * 2)):
            onset = now - began
            effects.append(
                SideEffect.objects.create(
                    session=session,
                    kind=kind,
                    onset=onset,
                    resolved_at=onset + resolved_after if resolved_after else None,
                    severity="mild",
                    recorded_by=practitioner,
                )
            )
    flagged = set(SideEffect.objects.needing_attention(now).values_list("pk", flat=True))
    # Now, and later, when the ongoing ones have outlasted their course.
    for at in (now, now + timedelta(days=15)):
        annotated = dict(SideEffect.objects.with_attention(at).values_list("pk", "needs_attention"))
        assert annotated == {e.pk: needs_attention_in_python(e, at) for e in effects}, at
    assert flagged == {e.pk for e in effects if needs_attention_in_python(e, now)}
    assert 0 < len(flagged) < len(effects)


def test_the_application_cannot_write_its_own_attention(now, practitioner):
    """A write that sets attention_from is overwritten by the rule, and an effect's
    resolution moves it."""
    session = TreatmentSessionFactory(
        treatment_map=TreatmentMapFactory(created_by=practitioner),
        performed_at=now - timedelta(days=10),
    )
    effect = SideEffect.objects.create(
        session=session,
        kind="swelling",
        onset=now - timedelta(days=8),
        severity="mild",
        recorded_by=practitioner,
    )
    assert SideEffect.objects.needing_attention(now).filter(pk=effect.pk).exists()
    SideEffect.objects.filter(pk=effect.pk).update(attention_from=None)
    assert SideEffect.objects.needing_attention(now).filter(pk=effect.pk).exists()
    # Resolved within its five days after all: no longer a flag.
    SideEffect.objects.filter(pk=effect.pk).update(resolved_at=now - timedelta(days=5))
    assert not SideEffect.objects.needing_attention(now).filter(pk=effect.pk).exists()
