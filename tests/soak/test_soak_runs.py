"""The soak script (make soak) runs once at a tiny size in `make test`, on a PostgreSQL
cluster of its own that it crashes and restarts, so a change that breaks it fails the
suite. It checks itself and exits 1 when a check fails; no timing targets here."""

import subprocess
import sys

import pytest

from tests.soak.soak import BASE_DIR

# Kept between runs like make soak's (var/soak/), so only the first run pays for initdb
# and every migration. Not under tmp_path: as root PostgreSQL runs as another user, and
# any pytest run starting meanwhile takes the traverse permission off pytest's folder.
PGROOT = BASE_DIR / "var" / "soak-test" / "postgres"


@pytest.mark.soak
def test_the_soak_script_runs_at_a_tiny_size():
    tiny = "--practitioners=2 --seconds=1 --crawlers=2 --crawl-seconds=1 --pages=15 --outage=1"
    result = subprocess.run(
        [sys.executable, "-m", "tests.soak.soak", *tiny.split(), f"--pgroot={PGROOT}"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "All checks passed." in output
    for figure in (
        "answers from the crash until PostgreSQL was back",
        "recovery after PostgreSQL accepted connections again: /healthz 200 in",
        "acknowledged writes lost: 0",
        "2 clients crawling every page",
        "workers replaced: 0",
        "gunicorn's own 400 (a malformed request) carries the security headers: True",
    ):
        assert figure in output, output
