"""Reports on a replica (clinic/replica.py): the router's rules, and the report pages on
a real streaming standby started from the same PostgreSQL binaries."""

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest
from django.db import DEFAULT_DB_ALIAS
from django.test import RequestFactory

from clinic import localdb
from clinic.replica import REPLICA, ReplicaRouter, reads_on_replica, replica_reads
from patients.models import Patient


def test_writes_always_go_to_the_primary_and_reads_only_inside_a_report():
    router = ReplicaRouter()
    assert router.db_for_write(Patient) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Patient) is None  # Django's default: the primary
    assert router.allow_migrate(REPLICA, "patients") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "patients") is True


def test_without_a_replica_a_report_reads_from_the_primary(settings):
    assert REPLICA not in settings.DATABASES
    seen = []

    @reads_on_replica
    def view(request):
        seen.append(ReplicaRouter().db_for_read(Patient))
        return "answered"

    assert view(RequestFactory().get("/")) == "answered"
    assert seen == [None]
    with replica_reads() as on_replica:
        assert on_replica is False


@pytest.mark.slow
def test_report_pages_read_from_a_real_streaming_replica():
    """Started with pg_basebackup beside a throwaway primary (never the suite's own):
    with its replay paused and the patient renamed on the primary, the report pages show
    the replica's name and the chart the primary's; the access log is written to the
    primary only; after replay they agree; with the replica stopped, reports still
    answer, from the primary."""
    # Under var/, not pytest's tmp_path (see tests/operations/test_devdb.py, scratch).
    folder = localdb.BASE_DIR / "var" / "test-clusters" / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True)
    folder.chmod(0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    try:
        run = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "tests.operations.replica_scenario", str(folder)],
            cwd=localdb.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    paused = seen["paused"]
    assert all(page["status"] == 200 for page in paused.values()), paused
    for report in ("recall", "recall_csv", "fhir"):
        assert paused[report]["old"] and not paused[report]["new"], (report, paused)
    assert paused["chart"]["new"] and not paused["chart"]["old"]
    # Each page logged its look, on the primary; the paused replica has none of it.
    assert seen["writes_while_paused"] == 4
    assert seen["access_log_rows_on_replica_while_paused"] == seen["access_log_rows_before"]
    for state in ("resumed", "replica_down"):
        for name, page in seen[state].items():
            assert page["status"] == 200 and page["new"] and not page["old"], (state, name)
