"""gunicorn settings: `make run`, `make soak` and production use this one file.

    .venv/bin/gunicorn --config clinic/gunicorn.conf.py --bind 127.0.0.1:8000

Sized for two cores: WEB_CONCURRENCY worker processes (default 2) of GUNICORN_THREADS
threads each (default 4). A request waits mostly on PostgreSQL or WeasyPrint, so threads
keep both cores busy without a process per request.

Database connections. Django opens one connection per thread that serves a request and
keeps it CONN_MAX_AGE seconds (60), so one gunicorn holds at most workers x threads of
them, whatever the number of clients: requests beyond that wait in gunicorn's queue
(worker_connections, 1000 per worker), not in PostgreSQL's. The local PostgreSQL
(operations/devdb.py) allows MAX_CONNECTIONS = 100, of which 3 are kept for superusers:
97 for our roles. `make run`: 2 x 4 = 8; twice that for a moment during a graceful
restart (HUP), 16. `make test` alongside: 2 xdist workers, each with the application's and
the owner's connections plus a few threads in the concurrency and browser tests, about
12; `manage.py` commands (migrate, backup) one or two each. About 30 of 97 in the worst
case. `make soak` runs its own gunicorn on its own PostgreSQL cluster. At start-up
on_starting() asks the server for its limit and refuses a workers x threads above half
of what our roles may open, so a bigger setting cannot end in "too many clients already".
"""

import os
import sys
from pathlib import Path

import psycopg2
from django.db import connections
from gunicorn import util

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic.settings import env_int  # noqa: E402  (needs the project on the path)

wsgi_app = "clinic.wsgi:application"
bind = ["127.0.0.1:8000"]  # `make run` passes --bind 127.0.0.1:$(PORT)
worker_class = "gthread"
workers = env_int("WEB_CONCURRENCY", 2, minimum=1)
threads = env_int("GUNICORN_THREADS", 4, minimum=1)
# A PDF summary takes about half a second; anything near this is stuck.
timeout = 60
# `kill -TERM` lets requests in flight finish for at most this long (Ctrl-C stops at once).
graceful_timeout = 10
keepalive = 5
# gunicorn's runtime control socket (gunicornc) is one path per user: two servers (make run
# and make soak) would fight over it, and nothing here uses it.
control_socket_disable = True
accesslog = "-"
# The path without its query string: a search for a patient puts their name or birth date
# in the query, and access logs are kept and shipped with less care than the database.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def on_starting(server) -> None:
    """Refuse a size the database cannot serve; say so and carry on if it is not up yet
    (the health check then answers 503 until it is)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    wanted = workers * threads
    try:
        # A connection of our own, closed below: none is left for the workers to inherit.
        params = connections["default"].get_connection_params()
        conn = psycopg2.connect(**{**params, "connect_timeout": 5})
    except psycopg2.OperationalError as exc:
        server.log.warning("Database not reachable at start-up: %s", str(exc).strip())
        return
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
                " - coalesce(current_setting('reserved_connections', true)::int, 0)"
            )
            (open_to_roles,) = cur.fetchone()
    finally:
        conn.close()
    if wanted > open_to_roles // 2:
        raise RuntimeError(
            f"{workers} workers x {threads} threads may hold {wanted} database connections; "
            f"the database allows {open_to_roles} to the application, and half of them must "
            "stay free for migrations, backups, a restart and other servers. "
            "Lower WEB_CONCURRENCY or GUNICORN_THREADS."
        )
    server.log.info(
        "%d workers x %d threads: at most %d of %d database connections",
        workers,
        threads,
        wanted,
        open_to_roles,
    )


# gunicorn answers a few requests itself, before Django sees them (a malformed request
# line, headers too large, an application that crashed outside Django's handler). Those
# answers get the same security headers as Django's pages, with a policy that allows
# nothing at all: they load no style, script or image.
ERROR_HEADERS = (
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
    "X-Frame-Options: DENY\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: same-origin\r\n"
    "Cache-Control: no-store\r\n"
)


def write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn.util.write_error with the security headers; plain text, so nothing in the
    message can be read as markup."""
    body = f"{status_int} {reason}\n{mesg}\n".encode("latin-1", "replace")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: text/plain; charset=latin-1\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"{ERROR_HEADERS}\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = write_error
