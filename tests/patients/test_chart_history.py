"""A long history on the chart (issue 12): the latest sessions at a glance, older ones a
page at a time, and a query count that does not follow the number of sessions."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import PatientFactory, TreatmentSessionFactory, copy_sessions, make_photo
from tests.query_budget import assert_no_growth, page_queries
from treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db

SESSION_LINK = re.compile(r'href="(/sessions/\d+/)"')


@pytest.fixture
def first_session(practitioner):
    return TreatmentSessionFactory(
        treatment_map__created_by=practitioner,
        performed_at=timezone.now() - timedelta(days=400),
    )


def _add(first_session, count: int) -> None:
    """More sessions after those there are, an hour apart."""
    latest = TreatmentSession.objects.order_by("-performed_at").first().performed_at
    copy_sessions(first_session, count, start=latest + timedelta(hours=1), step=timedelta(hours=1))


def _session_links(html: str) -> list[str]:
    listed = html.split('data-testid="sessions"')[1].split("</ul>")[0]
    return SESSION_LINK.findall(listed)


def test_the_chart_lists_the_latest_sessions_and_pages_to_the_older(
    client_for, practitioner, first_session
):
    _add(first_session, 24)  # 25 sessions: pages of 10, 10 and 5
    client = client_for(practitioner)
    url = first_session.patient.get_absolute_url()
    newest_first = [
        s.get_absolute_url() for s in TreatmentSession.objects.order_by("-performed_at", "-id")
    ]

    html = client.get(url).content.decode()
    assert _session_links(html) == newest_first[:10]
    assert "Newer sessions" not in html
    assert 'href="?sessions=2#sessions-heading">Older sessions' in html

    seen, page = [], 1
    while True:
        html = client.get(url, {"sessions": page}).content.decode()
        seen += _session_links(html)
        older = re.search(r'href="\?sessions=(\d+)#sessions-heading">Older sessions', html)
        if not older:
            break
        assert int(older.group(1)) == page + 1
        page += 1
    # Every session reachable, once, newest first; the last page links back.
    assert seen == newest_first
    assert page == 3
    assert "Older sessions, page 3" in html and "Newer sessions" in html


def test_a_page_past_the_end_is_empty_not_an_error(client_for, practitioner, first_session):
    html = (
        client_for(practitioner)
        .get(first_session.patient.get_absolute_url(), {"sessions": "99"})
        .content.decode()
    )
    assert "No sessions on this page." in html
    assert "Newer sessions" in html


def test_the_chart_queries_do_not_grow_with_the_history(client_for, practitioner, first_session):
    client = client_for(practitioner)
    url = first_session.patient.get_absolute_url()
    _add(first_session, 9)
    small = page_queries(client, url)
    _add(first_session, 990)
    large = page_queries(client, url)
    assert_no_growth("chart", small, large)
    # and the page stays the same size: ten sessions listed, not a thousand
    html = client.get(url).content.decode()
    assert len(_session_links(html)) == 10


def test_the_chart_shows_the_latest_photos_and_reaches_every_one(client_for, practitioner):
    patient = PatientFactory()
    client = client_for(practitioner)
    oldest = make_photo(patient, practitioner, days_ago=30, region="Left knee")
    small = page_queries(client, patient.get_absolute_url())
    for day in range(13):
        make_photo(patient, practitioner, days_ago=day + 1)
    large = page_queries(client, patient.get_absolute_url())
    assert_no_growth("chart photos", small, large)

    html = client.get(patient.get_absolute_url()).content.decode()
    assert html.count('data-testid="older-photos"') == 1
    assert "The latest 12 of 14 photos" in html
    assert f"/photos/{oldest.pk}/" not in html  # the oldest is no longer a thumbnail...
    compare = reverse("patients:photo_compare", args=[patient.pk])
    # ...but its region's page lists it
    assert f'href="{compare}?region=Left%20knee&amp;view=front">Left knee, front (1)</a>' in html
    # comparisons are still offered for regions with two photos or more only
    offered = html.split("Compare:")[1].split("</p>")[0]
    assert "Right thigh, front (13)" in offered and "Left knee" not in offered
    page = client.get(compare, {"region": "Left knee", "view": "front"}).content.decode()
    assert f"/photos/{oldest.pk}/" in page
