"""The benchmark (make bench) runs at two small sizes on the test database, with its own
gunicorn and client process, so a change to the pages, the models or the sign-in that
breaks it fails the suite. No timing targets here: every page must answer with its
marker, and the table must have every row. The second size gives the long-history
patient more sessions than a booklet page holds, as at every size above the tiniest:
a marker that holds only when everything fits on one page fails there."""

import os

import pytest

from tests.bench import bench, data
from tests.live.server import database_url
from treatments.models import TreatmentSession

# Committed data: gunicorn reads it from its own connections.
pytestmark = pytest.mark.django_db(transaction=True)


def pages(sessions: int) -> list[str]:
    return [
        "search: full name",
        "search: surname with a typo",
        "search: surname with a letter dropped",
        "search: surname alone",
        "search: chart number",
        "search: birth date",
        f"chart ({sessions} sessions)",
        "map page",
        "session page",
        "print view",
        "stored PDF",
        "dashboard",
        "lot recall DEMO-RECALL-1 (first page)",
        "lot recall, most-used lot (first page)",
        "lot recall, median lot (first page)",
        "lot recall CSV, most-used lot (one client)",
        f"booklet ({sessions} sessions)",
        f"FHIR export ({sessions} sessions)",
        "audit search, one patient",
        "session list",
        "console: compound list",
        "console: compound history",
        "save a 14-zone draft",
        "sign it (PDF drawn, one client)",
    ]


@pytest.mark.parametrize(
    ("patients", "long_history", "recall_uses"),
    [(20, 5, 30), (40, 25, 120)],
    ids=["one-booklet-page", "two-booklet-pages"],
)
def test_the_benchmark_drives_every_page_on_gunicorn(
    settings, tmp_path, patients, long_history, recall_uses
):
    show = data.ensure_data(patients, long_history=long_history, recall_uses=recall_uses)
    assert show.patients == patients and show.long_sessions == long_history
    expected = pages(long_history)
    url = database_url()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MIGRATION_DATABASE_URL": url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }

    # Without warm-up requests: about 30 s on a busy machine.
    report = bench.run(show, clients=2, seconds=0.2, env=env, out_dir=tmp_path, warm_up=False)

    assert report.failed == 0, report.table
    assert [row.name for row in report.rows] == expected
    assert report.baseline.requests > 0
    for row in report.rows:
        assert row.requests > 0 and row.median_ms > 0 and row.p95_ms >= row.median_ms, row
    # The sign page signed drafts the save page made, with their PDF.
    signed = TreatmentSession.objects.filter(
        status=TreatmentSession.Status.SIGNED, practitioner__username__startswith="bench-"
    ).exclude(pdf="")
    assert signed.count() == report.rows[-1].requests > 0
    assert len(report.workers_mb) == bench.WORKERS and all(mb > 0 for mb in report.workers_mb)
    table = (tmp_path / "latest.md").read_text()
    assert table == report.table
    for name in ["baseline", *expected]:
        assert f"| {name}" in table
    assert "resident memory after the run" in table
