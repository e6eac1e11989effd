"""The session list over a clinic's whole history (issue 12): pages without counting
every session, and the same queries for 30 sessions as for 600."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import TreatmentSessionFactory, copy_sessions
from tests.query_budget import assert_no_growth, page_queries
from treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


@pytest.fixture
def firsts(practitioner):
    """A session for each of three patients, the start of their histories."""
    start = timezone.now() - timedelta(days=200)
    return [
        TreatmentSessionFactory(treatment_map__created_by=practitioner, performed_at=start)
        for _ in range(3)
    ]


def _grow(firsts, each: int) -> None:
    start = TreatmentSession.objects.order_by("-performed_at").first().performed_at
    for offset, first in enumerate(firsts):
        copy_sessions(first, each, start=start + (offset + 1) * HOUR, step=3 * HOUR)


def test_the_list_pages_newest_first_without_counting(client_for, assistant, firsts):
    _grow(firsts, 9)  # 30 sessions: a page of 25, then 5
    client = client_for(assistant)
    url = reverse("treatments:session_list")
    first = page_queries(client, url)
    assert not any("COUNT(" in sql.upper() for sql in first.statements)
    html = client.get(url).content.decode()
    assert "Page 1<" in html and "Page 1 of" not in html
    assert 'page=2">Next' in html
    newest_first = list(TreatmentSession.objects.order_by("-performed_at", "-id"))
    dates = [f"{timezone.localtime(s.performed_at):%Y-%m-%d %H:%M}" for s in newest_first]
    assert html.index(dates[0]) < html.index(dates[24])
    assert dates[25] not in html
    second = client.get(url, {"page": 2}).content.decode()
    assert all(date in second for date in dates[25:]) and "Next" not in second


def test_the_list_queries_do_not_grow_with_the_sessions(client_for, assistant, firsts):
    client = client_for(assistant)
    _grow(firsts, 9)
    small = page_queries(client, reverse("treatments:session_list"))
    small_signed = page_queries(client, reverse("treatments:session_list") + "?status=signed")
    _grow(firsts, 190)  # 600 sessions
    assert_no_growth(
        "session list", small, page_queries(client, reverse("treatments:session_list"))
    )
    assert_no_growth(
        "session list, signed",
        small_signed,
        page_queries(client, reverse("treatments:session_list") + "?status=signed&page=20"),
    )
