"""Least privilege in the database: an owner that migrates, an application that may not
rewrite the record.

Two PostgreSQL roles share the database:

- the owner (MIGRATION_DATABASE_URL; locally ``mesochart_owner``) owns every table,
  trigger and function. ``manage.py migrate`` and ``flush`` connect as it (the
  commands of the same name in operations/management/commands wrap Django's).
- the application (DATABASE_URL; locally ``mesochart_app``) is no superuser and owns
  nothing, so it cannot ALTER, DISABLE or DROP a trigger, nor replace a function.
  After each migrate, ``secure_database`` (post_migrate, as the owner) grants it
  exactly the table privileges ``table_privileges`` lists: no UPDATE or DELETE on
  the append-only tables (history events, the access log, amendments), no
  TRUNCATE anywhere.

Every function the owner has in the schema (pgtrigger's and pghistory's trigger
functions, and the two below) runs with a fixed ``search_path`` that puts ``pg_temp``
last: a trigger that names ``treatments_treatmentsession`` or inserts into an event
table always reaches the public table, never a temporary table of the same name that
the caller made to shadow it (PostgreSQL searches ``pg_temp`` first unless the path
places it). The application's role may not create temporary tables at all either.

pgtrigger lets any session skip its triggers with ``SET LOCAL pgtrigger.ignore``:
every trigger function first asks ``_pgtrigger_should_ignore(TG_NAME)``, which reads
that setting, and custom settings can be set by anyone. Nothing in MesoChart uses
pgtrigger.ignore, so after pgtrigger (re)installs its triggers, ``secure_database``
replaces that function with one that honours the setting only for the owner (who
could drop the trigger anyway). The application's role can neither replace the
function back (it does not own it, nor may it create in the schema) nor set
``session_replication_role`` (a superuser-only setting).

pghistory's ``_pgh_attach_context`` upserts the context (who, which request) of each
history event. It is replaced by one that runs as the owner and only ever adds keys to
a stored context, so the application's role needs no UPDATE on ``pghistory_context``
and cannot re-attribute an event to someone else.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from contextlib import contextmanager

import pghistory.models
import pgtrigger
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from pgtrigger.core import _ignore_func_name

from clinic.triggers import OwnerTrigger

LOGGER = logging.getLogger(__name__)

# The connection settings that differ between the two roles.
CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")

ALL = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})
APPEND_ONLY = frozenset({"SELECT", "INSERT"})

# Tables whose privileges are decided here rather than from their triggers.
POLICY = {
    # Bookkeeping of migrate itself: the application only reads it (Django's checks).
    "django_migrations": frozenset({"SELECT"}),
    # The context (who, which request) of history events: written by
    # _pgh_attach_context (CONTEXT_FUNCTION, as the owner), only read here.
    "pghistory_context": frozenset({"SELECT"}),
    # The console's change log: written by the admin, never rewritten.
    "django_admin_log": APPEND_ONLY,
    # django-axes. Sign-in attempts are a counter, not evidence: axes updates it on
    # each failure and deletes it on success and after the cool-off. Its access log
    # gets logout_time written at sign-out (UPDATE of that column alone), never a
    # delete (axes_reset_logs is maintenance: run it as the owner). Failure records
    # (off by default, and then never written) are append-only; enabling
    # AXES_ENABLE_ACCESS_FAILURE_LOG with a per-user limit would need DELETE here.
    "axes_accessattempt": ALL,
    "axes_accessattemptexpiration": ALL,
    "axes_accesslog": APPEND_ONLY | {"UPDATE (logout_time)"},
    "axes_accessfailurelog": APPEND_ONLY,
    # Facts the database keeps for itself (clinic/triggers.py, OwnerTrigger): written
    # by the lot_facts and map_schedule triggers as the owner, only read by the
    # application.
    "treatments_lotsession": frozenset({"SELECT"}),
    "treatments_mapschedule": frozenset({"SELECT"}),
    # Kept by the lot_totals trigger on treatments_lotsession, as the owner.
    "treatments_lotpatient": frozenset({"SELECT"}),
    "treatments_lottotal": frozenset({"SELECT"}),
    "treatments_lotamount": frozenset({"SELECT"}),
}


def table_privileges() -> dict[str, frozenset[str]]:
    """The application's privileges on each of the project's tables.

    All four by default. Append-only tables get SELECT and INSERT only, so the
    refusal does not rest on a trigger alone: every history event table, and each
    table whose trigger refuses both UPDATE and DELETE unconditionally
    (pgtrigger.Protect without a condition: the access log, amendments). Tables
    that only refuse DELETE (NO_DELETE) keep the privilege: their trigger, which the
    application can no longer skip, answers with its own error, which the tests
    check. POLICY has the last word.
    """
    revoked: dict[str, set[str]] = defaultdict(set)
    tables = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            tables.add(model._meta.db_table)
            if issubclass(model, pghistory.models.Event):
                revoked[model._meta.db_table] |= ALL - APPEND_ONLY
    for model, trigger in pgtrigger.registered():
        operations = set(str(trigger.operation).split(" OR "))
        if (
            isinstance(trigger, pgtrigger.Protect)
            and trigger.condition is None
            and {"UPDATE", "DELETE"} <= operations
        ):
            revoked[model._meta.db_table] |= ALL - APPEND_ONLY
    privileges = {table: ALL - revoked[table] for table in tables}
    privileges.update(POLICY)
    return privileges


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


# Where the owner's functions look names up: pg_temp (the caller's temporary tables)
# last, so that it never hides a table of the schema.
SEARCH_PATH = "pg_catalog, public, pg_temp"

IGNORE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {{name}}(trigger_name NAME)
RETURNS BOOLEAN SET search_path = {SEARCH_PATH} AS $$
    -- Installed by MesoChart (operations/dbroles.py) over pgtrigger's own: only the
    -- owner of the tables may skip a trigger with SET pgtrigger.ignore.
    DECLARE
        _pgtrigger_ignore TEXT[];
    BEGIN
        -- session_user, not current_user: inside a SECURITY DEFINER function
        -- (clinic/triggers.py, OwnerTrigger) current_user is the owner.
        IF session_user <> {{owner}} THEN
            RETURN FALSE;
        END IF;
        BEGIN
            SELECT INTO _pgtrigger_ignore CURRENT_SETTING('pgtrigger.ignore');
            EXCEPTION WHEN OTHERS THEN
        END;
        RETURN COALESCE(trigger_name = ANY(_pgtrigger_ignore), FALSE);
    END;
$$ LANGUAGE plpgsql;
"""

# pghistory's upsert of the context, as the owner (SECURITY DEFINER), so that the
# application needs no UPDATE on pghistory_context. A stored context may gain keys
# (a nested pghistory.context() in the same request) but never change or lose one.
# SEARCH_PATH is a constant of this module.
CONTEXT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION public._pgh_attach_context()
RETURNS UUID SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
    -- Installed by MesoChart (operations/dbroles.py) over pghistory's own.
    DECLARE
        _id UUID;
        _metadata JSONB;
        _stored JSONB;
    BEGIN
        BEGIN
            SELECT INTO _id CURRENT_SETTING('pghistory.context_id');
            SELECT INTO _metadata CURRENT_SETTING('pghistory.context_metadata');
            EXCEPTION WHEN OTHERS THEN
        END;
        IF _id IS NULL OR _metadata IS NULL THEN
            RETURN NULL;
        END IF;
        INSERT INTO public.pghistory_context (id, metadata, created_at, updated_at)
            VALUES (_id, _metadata, NOW(), NOW())
            ON CONFLICT (id) DO NOTHING;
        IF NOT FOUND THEN
            SELECT metadata INTO _stored FROM public.pghistory_context
                WHERE id = _id FOR UPDATE;
            IF _stored IS DISTINCT FROM _metadata THEN
                IF EXISTS (
                    SELECT 1 FROM jsonb_each(_stored) AS kept
                    WHERE _metadata -> kept.key IS DISTINCT FROM kept.value
                ) THEN
                    RAISE EXCEPTION 'history context % is append-only', _id
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                UPDATE public.pghistory_context
                    SET metadata = _metadata, updated_at = NOW() WHERE id = _id;
            END IF;
        END IF;
        RETURN _id;
    END;
$$ LANGUAGE plpgsql;
"""  # noqa: S608  # nosec B608

# The owner's own functions in the schema: not those an extension (pg_trgm…) brings.
OWN_FUNCTIONS = """
SELECT p.oid::regprocedure::text FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND p.proowner = (
    SELECT oid FROM pg_roles WHERE rolname = current_user
) AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
)
ORDER BY 1
"""


def run_as_owner(cursor) -> None:
    """Make each OwnerTrigger's function SECURITY DEFINER (pgtrigger installs them as
    the caller's)."""
    for model, trigger in pgtrigger.registered():
        if isinstance(trigger, OwnerTrigger):
            pgid = trigger.get_pgid(model)
            cursor.execute(f"ALTER FUNCTION {pgid}() SECURITY DEFINER")


def pin_search_paths(cursor) -> int:
    """Give every function of the owner's the fixed search_path; return how many.

    pgtrigger and pghistory write trigger functions that name tables without a schema:
    with PostgreSQL's default path the caller's temporary tables come first."""
    cursor.execute(OWN_FUNCTIONS)
    functions = [row[0] for row in cursor.fetchall()]
    for function in functions:
        cursor.execute(f"ALTER FUNCTION {function} SET search_path = {SEARCH_PATH}")
    return len(functions)


def may_create_temporary_tables(connection, role: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_database_privilege(%s, current_database(), 'TEMPORARY')", [role])
        return cursor.fetchone()[0]


def grant_statements(connection, owner: str, app: str) -> list[str]:
    """The SQL that gives `app` its privileges, run by `owner` (also in the README)."""
    q_owner, q_app = _quote(connection, owner), _quote(connection, app)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {q_app}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {q_app}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {q_app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {q_app}",
        # Tables and sequences created later (by the owner) start append-only; the
        # next post_migrate widens them as table_privileges says.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q_owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT ON TABLES TO {q_app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q_owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {q_app}",
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        existing = {row[0] for row in cursor.fetchall()}
    for table, privileges in sorted(table_privileges().items()):
        if table in existing and privileges:
            listed = ", ".join(sorted(privileges))
            statements.append(f"GRANT {listed} ON {_quote(connection, table)} TO {q_app}")
    # Every role may create temporary tables by default (through PUBLIC); only the
    # owner of the database can take that back (anyone else gets a warning).
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        database = _quote(connection, cursor.fetchone()[0])
    statements += [
        f"REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC",
        f"REVOKE TEMPORARY ON DATABASE {database} FROM {q_app}",
    ]
    return statements


def secure_database(using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate, right after pgtrigger installs its triggers: close the ignore
    hook and grant the application's role its privileges. Runs as the owner."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
        literal = "'" + owner.replace("'", "''") + "'"
        cursor.execute(IGNORE_FUNCTION.format(name=_ignore_func_name(), owner=literal))
        cursor.execute(CONTEXT_FUNCTION)
        run_as_owner(cursor)
        pin_search_paths(cursor)
    app = settings.DATABASE_APP_ROLE
    if not app or app == owner:
        LOGGER.warning(
            "The application connects as %s, the owner of the tables: set "
            "MIGRATION_DATABASE_URL to the owner's connection and DATABASE_URL to a "
            "role of its own (README, Database roles).",
            owner,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [app])
        row = cursor.fetchone()
        if row is None:
            raise ImproperlyConfigured(
                f"The database role {app!r} (DATABASE_URL) does not exist: "
                f"CREATE ROLE {app} LOGIN PASSWORD '...'; then migrate again."
            )
        if row[0]:
            raise ImproperlyConfigured(
                f"The database role {app!r} (DATABASE_URL) is a superuser: the "
                "application must connect as a role that is not."
            )
        for statement in grant_statements(connection, owner, app):
            cursor.execute(statement)
    if may_create_temporary_tables(connection, app):
        LOGGER.warning(
            "%s may create temporary tables: %s does not own the database, so an "
            "administrator must run the REVOKE TEMPORARY statements that "
            "`manage.py database_grants` prints.",
            app,
            owner,
        )


def _switch(alias: str, config: dict) -> dict:
    """Point the connection at other credentials; return the ones it had."""
    connection = connections[alias]
    previous = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
    connection.close()
    connection.settings_dict.update({key: config.get(key) for key in CREDENTIALS})
    return previous


def connected_as_owner(alias: str = DEFAULT_DB_ALIAS) -> bool:
    settings_dict = connections[alias].settings_dict
    return all(settings_dict.get(k) == settings.MIGRATION_DATABASE.get(k) for k in CREDENTIALS)


def use_owner(alias: str = DEFAULT_DB_ALIAS) -> dict:
    """Connect as the owner from now on; return the credentials to restore."""
    return _switch(alias, settings.MIGRATION_DATABASE)


def restore(previous: dict, alias: str = DEFAULT_DB_ALIAS) -> dict:
    """Connect with these credentials again; return the ones it had."""
    return _switch(alias, previous)


@contextmanager
def as_owner(alias: str = DEFAULT_DB_ALIAS):
    """Run the block connected as the owner (migrate, flush).

    Only the default database has an owner configured. A connection inside a
    transaction cannot change roles: the block then runs as it is connected.
    """
    connection = connections[alias]
    if alias != DEFAULT_DB_ALIAS or connected_as_owner(alias) or connection.in_atomic_block:
        yield
        return
    previous = use_owner(alias)
    try:
        yield
    finally:
        restore(previous, alias)
