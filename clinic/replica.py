"""Reports on a replica when there is one.

With DATABASE_REPLICA_URL set (a streaming standby of the clinic's database, reached as
the application's role), the read-only report pages — lot recall and its CSV, the audit
search, the FHIR export — read from the replica, and everything else, every write
included, from the primary. A report page marks its GET with @reads_on_replica; the
router then sends that request's reads there, and its writes (the access log) to the
primary as always.

A replica that does not answer is no reason to refuse a report: the request reads from
the primary instead, and the fall-back is logged. A replica lags the primary by its
replay delay (usually well under a second): a report may miss what was written in that
moment, never anything older.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import StreamingHttpResponse

REPLICA = "replica"
LOGGER = logging.getLogger(__name__)

_reading = ContextVar("reads_on_replica", default=False)


class ReplicaRouter:
    """Reads inside reads_on_replica() go to the replica; every write to the primary."""

    def db_for_read(self, model, **hints):
        return REPLICA if _reading.get() else None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The same database seen twice: a patient read on the replica may be named by
        # an access-log row written to the primary.
        return {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA} or None

    def allow_migrate(self, db, app_label, **hints):
        # A standby takes its schema from the primary's WAL.
        return db == DEFAULT_DB_ALIAS


def replica_answers() -> bool:
    """Whether a replica is configured and takes a connection now."""
    if REPLICA not in settings.DATABASES:
        return False
    replica = connections[REPLICA]
    try:
        replica.close_if_health_check_failed()
        replica.ensure_connection()
    except DatabaseError as error:
        LOGGER.warning("The replica does not answer (%s): reports read from the primary.", error)
        return False
    return True


@contextmanager
def replica_reads() -> Iterator[bool]:
    """Within: reads on the replica if it answers (yields whether they are)."""
    token = _reading.set(replica_answers())
    try:
        yield _reading.get()
    finally:
        _reading.reset(token)


def reads_on_replica(view):
    """For a report view: its GET (and HEAD) reads from the replica, a streamed answer
    included (its chunks are read after the view has returned). Other methods, which may
    write and must see what they write, stay on the primary."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        with replica_reads():
            response = view(request, *args, **kwargs)
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _streamed_on_replica(response.streaming_content)
        return response

    return wrapper


def _streamed_on_replica(chunks):
    with replica_reads():
        yield from chunks
