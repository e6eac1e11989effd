"""The project-local PostgreSQL helper, on a throwaway cluster of its own."""

import os
import shutil
import signal
import time
import uuid

import psycopg2
import pytest

from clinic import localdb
from operations import devdb


@pytest.fixture
def scratch():
    """A folder for throwaway clusters under var/, not pytest's tmp_path: another pytest
    run on the machine resets /tmp/pytest-of-<user> to 0700, which takes the traverse
    permission away from the system user PostgreSQL runs as (when we are root)."""
    folder = localdb.BASE_DIR / "var" / "test-clusters" / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True)
    folder.chmod(0o700)  # private, as tmp_path is: the helper must add traverse only
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def cluster(scratch):
    cluster = localdb.Cluster(scratch / "pg")
    yield cluster
    devdb.stop(cluster)


def _query(cluster, sql):
    conn = psycopg2.connect(
        dbname=localdb.DB_NAME, user=devdb.DB_USER, host=str(cluster.socket_dir)
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def _wait_until_gone(pid, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still alive")


def test_start_is_idempotent_and_socket_only(cluster):
    url = devdb.start(cluster)
    assert url == f"postgresql://mesochart_app@/mesochart?host={cluster.socket_dir}"
    assert cluster.owner_url == f"postgresql://mesochart_owner@/mesochart?host={cluster.socket_dir}"
    pid = devdb.postmaster_pid(cluster)
    devdb.start(cluster)  # already running: nothing happens
    assert devdb.postmaster_pid(cluster) == pid
    assert _query(cluster, "SHOW listen_addresses") == [("",)]
    # The owner migrates and may create (test) databases; the application's role
    # may do neither; no superuser but the bootstrap one.
    assert _query(
        cluster,
        "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
        "WHERE rolname LIKE 'mesochart%' ORDER BY rolname",
    ) == [("mesochart_app", False, False, False), ("mesochart_owner", False, True, False)]
    assert _query(
        cluster, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'mesochart'"
    ) == [("mesochart_owner",)]
    if os.geteuid() == 0:
        owner = (cluster.data_dir).stat().st_uid
        assert owner != 0  # PostgreSQL runs as the dedicated user, not root
        # Parents got traverse only, never read or list for others.
        assert not cluster.root.parent.stat().st_mode & 0o004


def test_restart_after_sigkill_keeps_the_data(cluster):
    devdb.start(cluster)
    _query(cluster, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')")
    pid = devdb.postmaster_pid(cluster)
    os.kill(pid, signal.SIGKILL)
    _wait_until_gone(pid)
    assert (cluster.data_dir / "postmaster.pid").exists()  # stale lock file left behind
    assert not devdb.is_running(cluster)

    devdb.start(cluster)
    assert devdb.postmaster_pid(cluster) != pid
    assert _query(cluster, "SELECT note FROM kept") == [("still here",)]


def test_stop_then_start(cluster):
    devdb.start(cluster)
    devdb.stop(cluster)
    assert not devdb.is_running(cluster)
    devdb.stop(cluster)  # stopping a stopped server is fine
    devdb.start(cluster)
    assert devdb.is_running(cluster)


def test_long_paths_get_a_short_socket_directory(scratch):
    deep = scratch.joinpath(*["a-rather-long-folder-name"] * 5)
    long_cluster = localdb.Cluster(deep / "pg")
    assert len(str(long_cluster.data_dir / localdb.SOCKET_FILE)) > localdb.MAX_SOCKET_PATH
    socket_dir = long_cluster.socket_dir
    assert len(str(socket_dir / localdb.SOCKET_FILE)) <= localdb.MAX_SOCKET_PATH
    assert socket_dir != localdb.Cluster(scratch / "other" / "pg").socket_dir
    short = localdb.Cluster(scratch / "pg")
    assert short.socket_dir == short.data_dir
    try:
        devdb.start(long_cluster)
        assert _query(long_cluster, "SELECT 1") == [(1,)]
    finally:
        devdb.stop(long_cluster)


def test_command_line_usage(capsys):
    assert devdb.main(["frobnicate"]) == 2
    assert "usage: python -m operations.devdb" in capsys.readouterr().err
