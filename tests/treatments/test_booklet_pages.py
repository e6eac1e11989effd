"""The booklet a page of twenty summaries at a time (issue 12): together the pages hold
every signed session once, oldest first, numbered in its plan; a page prints on its own;
neither the queries nor the page follow the length of the history."""

import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from weasyprint import CSS, HTML

from clinic.models import AccessLog
from tests.dates import shown
from tests.factories import MapZoneFactory, TreatmentMapFactory, copy_sessions, make_session
from tests.pdf import page_count, pdf_text
from tests.query_budget import assert_no_growth, page_queries
from treatments.models import TreatmentSession
from treatments.summary import SUMMARY_CSS, number_in_plan
from treatments.views.sessions import BOOKLET_PAGE

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
NUMBERED = re.compile(r"<th>Date</th><td>([\d: -]+)</td>.*?, session (\d+) of \d+</td>", re.S)


@pytest.fixture
def history(planned_map, lots, practitioner, catalogue):
    """Two maps of one patient, their sessions interleaved, with drafts among them:
    45 signed sessions in all, so pages of 20, 20 and 5."""
    start = planned_map.mapped_at + timedelta(days=1)
    first = make_session(planned_map, lots=lots, practitioner=practitioner, performed_at=start)
    other_map = TreatmentMapFactory(
        patient=planned_map.patient, location=planned_map.location, created_by=practitioner
    )
    MapZoneFactory(treatment_map=other_map, region_code="knee_left", formula=catalogue["permitted"])
    other = make_session(other_map, lots=lots, practitioner=practitioner, performed_at=start)
    copy_sessions(first, 30, start=start + HOUR, step=2 * HOUR)
    copy_sessions(other, 15, start=start + 2 * HOUR, step=4 * HOUR)
    copy_sessions(first, 3, start=start + 3 * HOUR, step=8 * HOUR, signed=False)
    return planned_map.patient


def _booklet(client, patient, page=None):
    url = reverse("treatments:booklet", args=[patient.pk])
    return client.get(url, {"page": page} if page else {}).content.decode()


def test_the_pages_hold_every_signed_session_once_in_order_with_its_number(
    client_for, practitioner, history
):
    client = client_for(practitioner)
    signed = list(
        TreatmentSession.objects.filter(patient=history, status="signed").order_by(
            "performed_at", "id"
        )
    )
    assert len(signed) == 45
    expected = [(shown(s.performed_at), str(number_in_plan(s))) for s in signed]

    printed, pages = [], []
    for page in (1, 2, 3):
        html = _booklet(client, history, page)
        pages.append(html)
        printed += NUMBERED.findall(html)
    assert printed == expected  # every signed one once, oldest first, numbered as printed alone
    # each map counted on its own, drafts aside: 1..30 and 1..15
    assert sorted(int(n) for _, n in printed) == sorted([*range(1, 31), *range(1, 16)])

    first, last = pages[0], pages[2]
    assert "Page 1 of 3: sessions 1–20 of 45 signed sessions" in first
    assert "Page 3 of 3: sessions 41–45 of 45 signed sessions" in last
    assert 'href="?page=2">Later sessions' in first and "Earlier sessions" not in first
    assert 'href="?page=2">← Earlier sessions' in last and "Later sessions" not in last
    # each view of a page is logged as a print of the record
    assert AccessLog.objects.filter(action="print", patient_id=history.pk).count() == 3


def test_a_short_booklet_is_one_page_without_paging(client_for, practitioner, signed):
    html = _booklet(client_for(practitioner), signed.patient)
    assert "1 signed session, oldest first." in html
    assert "Page 1 of" not in html and "Later sessions" not in html


def test_a_page_out_of_range_shows_the_last(client_for, practitioner, history):
    html = _booklet(client_for(practitioner), history, "99")
    assert "Page 3 of 3" in html


def test_a_booklet_page_prints_sensibly(client_for, practitioner, history):
    html = _booklet(client_for(practitioner), history, 3)
    pdf = HTML(string=html).write_pdf(stylesheets=[CSS(filename=finders.find(SUMMARY_CSS))])
    text = pdf_text(pdf)
    # one summary a sheet, the page of the booklet named on paper, no screen links
    assert page_count(pdf) == 5
    assert "Page 3 of 3: sessions 41–45 of 45 signed sessions" in text
    assert "page 3 of 3" in text
    assert "Earlier sessions" not in text and "Back to the chart" not in text


def test_the_booklet_queries_do_not_grow_with_the_history(
    client_for, practitioner, planned_map, lots
):
    client = client_for(practitioner)
    start = planned_map.mapped_at + timedelta(days=1)
    first = make_session(planned_map, lots=lots, practitioner=practitioner, performed_at=start)
    copy_sessions(first, 10, start=start + HOUR, step=HOUR)
    url = reverse("treatments:booklet", args=[planned_map.patient_id])
    small = page_queries(client, url)
    copy_sessions(first, 990, start=start + 11 * HOUR, step=HOUR)
    large = page_queries(client, url)
    assert_no_growth("booklet", small, large)
    last = page_queries(client, url + "?page=50")
    assert_no_growth("booklet, last page", small, last)
    html = client.get(url).content.decode()
    assert html.count('data-testid="summary"') == BOOKLET_PAGE
