"""A long history on the chart (issue 12): the latest sessions at a glance, older ones a
page at a time, and a query count that does not follow the number of sessions."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import TreatmentSessionFactory, copy_sessions
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
