from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AccessLog
from tests.dates import datetime_input, shown
from tests.factories import MapZoneFactory, PatientFactory, make_session
from tests.treatments.session_helpers import session_at, session_post
from treatments.models import SideEffect, TreatmentSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(client_for, practitioner, planned_map, lots):
    client_for(practitioner).post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots),  # at session_at(): 10:00 six weeks ago
    )
    return TreatmentSession.objects.get()


def _effect(session, user, kind, onset_after, lasted=None, **extra):
    onset = session.performed_at + onset_after
    return SideEffect.objects.create(
        session=session,
        kind=kind,
        onset=onset,
        severity="mild",
        recorded_by=user,
        resolved_at=onset + lasted if lasted else None,
        **extra,
    )


def _flagged(effect, now=None) -> bool:
    """What SideEffect.objects.with_attention says of this effect (at `now`), checked
    against the dashboard's list (needing_attention, spelt for its indexes)."""
    flagged = SideEffect.objects.with_attention(now).get(pk=effect.pk).needs_attention
    listed = SideEffect.objects.needing_attention(now).filter(pk=effect.pk).exists()
    assert listed == flagged
    return flagged


@pytest.mark.parametrize(
    ("kind", "lasted", "flagged"),
    [
        ("burning", timedelta(minutes=15), False),
        ("burning", timedelta(minutes=45), True),
        ("swelling", timedelta(days=3), False),
        ("swelling", timedelta(days=6), True),
        ("soreness", timedelta(days=4), False),
        ("soreness", timedelta(days=9), True),
        ("discoloration", timedelta(days=10), False),
        ("discoloration", timedelta(days=15), True),
        ("infection", timedelta(days=1), True),  # any infection
        ("other", timedelta(hours=1), True),
    ],
)
def test_expected_courses(session, practitioner, kind, lasted, flagged):
    effect = _effect(session, practitioner, kind, timedelta(minutes=5), lasted)
    assert _flagged(effect) is flagged


def test_an_unresolved_effect_is_flagged_once_past_its_course(session, practitioner):
    effect = _effect(session, practitioner, "swelling", timedelta(hours=2))
    assert not _flagged(effect, now=effect.onset + timedelta(days=4))
    assert _flagged(effect, now=effect.onset + timedelta(days=6))
    burning = _effect(session, practitioner, "burning", timedelta(hours=2))
    assert not _flagged(burning, now=burning.onset + timedelta(minutes=15))
    assert _flagged(burning, now=burning.onset + timedelta(minutes=25))


def test_record_a_follow_up_after_signing(client_for, practitioner, session, treatment_consent):
    client = client_for(practitioner)
    client.post(reverse("treatments:session_sign", args=[session.pk]))
    session.refresh_from_db()
    assert session.is_signed
    response = client.post(
        reverse("treatments:side_effect_new", args=[session.pk]),
        {
            "kind": "infection",
            "onset": datetime_input(session_at(2, hour=9)),
            "severity": "moderate",
            "notes": "Red, warm papule",
        },
    )
    assert response.status_code == 302
    assert SideEffect.objects.get().recorded_by == practitioner
    chart = client.get(session.patient.get_absolute_url()).content.decode()
    assert 'data-testid="flagged"' in chart and "Infection" in chart


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # Days after the session: turned into dates and times below.
        ({"onset": -1}, "cannot begin before it ({session})"),
        ({"onset": 2, "resolved_at": 1}, "cannot resolve before"),
        ({"onset": 400}, "in the future"),  # about a year from today
        ({"kind": "itchy"}, "Select a valid choice"),
    ],
)
def test_follow_up_validation(client_for, practitioner, session, data, message):
    data = {
        key: datetime_input(session_at(value, hour=9)) if key != "kind" else value
        for key, value in data.items()
    }
    message = message.format(session=shown(session.performed_at))
    post = {"kind": "swelling", "severity": "mild", "notes": "", **data}
    response = client_for(practitioner).post(
        reverse("treatments:side_effect_new", args=[session.pk]), post
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SideEffect.objects.exists()


def test_dashboard_today_drafts_and_flags(now, client_for, practitioner, planned_map, lots):
    client = client_for(practitioner)
    client.post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(
            planned_map,
            lots,
            performed_at=datetime_input(now - timedelta(minutes=5)),
            next_appointment=None,
        ),
    )
    session = TreatmentSession.objects.get()
    _effect(session, practitioner, "infection", timedelta(minutes=1))
    page = client.get(reverse("home")).content.decode()
    name = f"{session.patient.last_name}, {session.patient.first_name}"
    for block in ("today", "drafts", "flagged"):
        section = page.split(f'data-testid="{block}"')[1].split("</ul>")[0]
        assert name in section, block


def test_assistant_sees_the_session_list_without_clinical_links(client_for, assistant, session):
    response = client_for(assistant).get(reverse("treatments:session_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert session.patient.chart_number in html
    assert session.get_absolute_url() not in html
    assert client_for(assistant).get(session.get_absolute_url()).status_code == 403


def test_booklet_has_every_signed_session(
    client_for, practitioner, planned_map, lots, session, treatment_consent
):
    client = client_for(practitioner)
    second, third = session_at(14), session_at(28)
    for when in (second, third):
        client.post(
            reverse("treatments:session_new", args=[planned_map.patient_id]),
            session_post(
                planned_map, lots, performed_at=datetime_input(when), next_appointment=None
            ),
        )
    for signed in TreatmentSession.objects.exclude(performed_at=third):
        client.post(reverse("treatments:session_sign", args=[signed.pk]))
    response = client.get(reverse("treatments:booklet", args=[planned_map.patient_id]))
    html = response.content.decode()
    assert html.count('data-testid="summary"') == 2  # the third, a draft, is left out
    assert html.index(shown(session.performed_at)) < html.index(shown(second))
    assert f"{third:%Y-%m-%d}" not in html
    assert "session 1 of 6" in html and "session 2 of 6" in html
    assert AccessLog.objects.filter(action="print", patient_id=planned_map.patient_id).exists()


def test_lot_recall_lists_every_patient_and_session(
    client_for, practitioner, planned_map, lots, session
):
    other_patient = PatientFactory(last_name="Bergeron")
    client = client_for(practitioner)
    lot = lots["Phosphatidylcholine"]
    untouched = lots["Aminophylline"]
    response = client.get(reverse("treatments:lot_recall", args=[lot.pk]))
    html = response.content.decode()
    assert "1 patient, 1 session, 2 injections" in html
    assert "Right thigh, outer side, Left thigh, outer side" in html
    assert planned_map.patient.chart_number in html and session.get_absolute_url() in html
    assert other_patient.last_name not in html
    assert AccessLog.objects.filter(action="view", patient_id=planned_map.patient_id).exists()
    empty = client.get(reverse("treatments:lot_recall", args=[untouched.pk])).content.decode()
    assert "No patient has received this lot." in empty
    found = client.get(reverse("treatments:lots"), {"q": "phos-26"}).content.decode()
    assert reverse("treatments:lot_recall", args=[lot.pk]) in found


def test_query_counts_do_not_grow(
    client_for, practitioner, planned_map, lots, catalogue, django_assert_num_queries
):
    """Session page, print view and dashboard: constant in zones and sessions."""
    from treatments.models import BodyRegion

    client = client_for(practitioner)
    client.post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots, next_appointment=None),
    )
    small = TreatmentSession.objects.get()
    dashboard_before = _count(client, reverse("home"))
    for region in BodyRegion.objects.exclude(code__startswith="thigh_outer")[:18]:
        MapZoneFactory(
            treatment_map=planned_map,
            region=region,
            technique="point",
            formula=catalogue["restricted"],
            planned_volume_ml="1",
            restricted_acknowledged=True,
            restricted_note="ok",
        )
    for days_later in (8, 9, 10):
        client.post(
            reverse("treatments:session_new", args=[planned_map.patient_id]),
            session_post(
                planned_map,
                lots,
                performed_at=datetime_input(session_at(days_later)),
                next_appointment=None,
                **{f"form-{i}-restricted_acknowledged": "on" for i in range(20)},
                **{f"form-{i}-restricted_note": "ok" for i in range(20)},
                **_restricted_lots(planned_map, lots),
            ),
        )
    big = TreatmentSession.objects.latest("performed_at")
    assert big.injections.count() == 20
    for name in ("treatments:session", "treatments:session_print"):
        client.get(reverse(name, args=[small.pk]))
        with django_assert_num_queries(_count(client, reverse(name, args=[small.pk]))):
            client.get(reverse(name, args=[big.pk]))
    # Four drafts now instead of one, and a flagged follow-up: the same queries.
    from treatments.models import SideEffect

    SideEffect.objects.create(
        session=big,
        kind="infection",
        onset=timezone.now(),
        severity="mild",
        recorded_by=practitioner,
    )
    with django_assert_num_queries(dashboard_before):
        client.get(reverse("home"))


def _restricted_lots(planned_map, lots):
    from treatments.models import MapZone

    data = {}
    zones = (
        MapZone.objects.filter(treatment_map=planned_map)
        .select_related("formula")
        .order_by("region__sort_order")
    )
    for i, zone in enumerate(zones):
        for ingredient in zone.formula.ingredients.all():
            data[f"form-{i}-lot_{ingredient.compound_id}"] = lots[ingredient.compound.name].pk
    return data


def _count(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured.captured_queries)


def test_mark_a_follow_up_resolved(client_for, practitioner, session):
    effect = _effect(session, practitioner, "swelling", timedelta(hours=2))
    client = client_for(practitioner)
    # Through another patient's session, the follow-up is not found, and stays open.
    elsewhere = make_session(MapZoneFactory().treatment_map)
    response = client.post(
        reverse("treatments:side_effect_resolve", args=[elsewhere.pk, effect.pk]),
        {"resolved_at": datetime_input(session_at(3))},
    )
    assert response.status_code == 404
    effect.refresh_from_db()
    assert effect.resolved_at is None
    url = reverse("treatments:side_effect_resolve", args=[session.pk, effect.pk])
    client.post(url, {"resolved_at": datetime_input(session_at(-1))})  # before onset: refused
    effect.refresh_from_db()
    assert effect.resolved_at is None
    client.post(url, {"resolved_at": datetime_input(session_at(3))})
    effect.refresh_from_db()
    assert effect.resolved_at == session_at(3) and not _flagged(effect)


def test_entry_forms_do_not_query_per_zone(client_for, practitioner, planned_map, lots, catalogue):
    """The new-session form and the zone plan at the table: 2 zones or 20, same queries."""
    from treatments.models import BodyRegion

    client = client_for(practitioner)
    urls = [
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        reverse("treatments:map_plan", args=[planned_map.pk]),
    ]
    for url in urls:
        client.get(url)  # warm the per-process caches (content types)
    few = [_count(client, url) for url in urls]
    for region in BodyRegion.objects.exclude(code__startswith="thigh_outer")[:18]:
        MapZoneFactory(
            treatment_map=planned_map,
            region=region,
            technique="point",
            formula=catalogue["restricted"],
            planned_volume_ml="1",
        )
    assert [_count(client, url) for url in urls] == few


def test_lot_search_lists_the_latest_lots_without_a_query(client_for, practitioner, lots):
    page = client_for(practitioner).get(reverse("treatments:lots")).content.decode()
    assert "Latest deliveries" in page
    assert "PHOS-26" in page
    found = (
        client_for(practitioner).get(reverse("treatments:lots"), {"q": "amino"}).content.decode()
    )
    assert "AMIN-26" in found and "PHOS-26" not in found


def test_one_attention_rule_for_the_session_page_the_review_and_the_lists(
    client_for, practitioner, session
):
    """needs_attention (treatments/models/sessions.py) decides the page's flag and its
    review form, what review_side_effect accepts, and the chart's list: an ongoing
    swelling three days old is within its course (1-5 days), one six days old is not."""
    now = timezone.now()
    within = _effect(
        session, practitioner, "swelling", now - timedelta(days=3) - session.performed_at
    )
    overdue = _effect(
        session, practitioner, "swelling", now - timedelta(days=6) - session.performed_at
    )
    client = client_for(practitioner)
    page = client.get(session.get_absolute_url()).content.decode()

    def row(effect) -> str:
        return page.split(f'data-testid="followup-{effect.pk}"')[1].split("</tr>")[0]

    assert "needs attention" in row(overdue) and "Mark reviewed" in row(overdue)
    assert "needs attention" not in row(within) and "Mark reviewed" not in row(within)

    def review(effect):
        url = reverse("treatments:side_effect_review", args=[session.pk, effect.pk])
        return client.post(url, {"note": "Called: settling"}, follow=True).content.decode()

    assert "within its expected course: nothing to review" in review(within)
    assert "Swelling marked reviewed." in review(overdue)
    within.refresh_from_db(), overdue.refresh_from_db()
    assert within.reviewed_at is None and overdue.reviewed_by == practitioner
    assert not SideEffect.objects.needing_attention().exists()
    chart = client.get(session.patient.get_absolute_url()).content.decode()
    assert 'data-testid="flagged"' not in chart
