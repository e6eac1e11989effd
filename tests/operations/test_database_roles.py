"""The application's database role cannot rewrite the record, nor switch off what guards it.

The suite runs connected as that role (tests/conftest.py): each statement here is
what a compromised application could send. Each must fail, and change nothing.
"""

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clinic.models import NO_DELETE, AccessLog
from operations import dbroles
from patients.models import Patient, PatientEvent
from tests.factories import MapZoneFactory, PatientFactory, TreatmentMapFactory, make_session
from treatments.models import Amendment, TreatmentSession
from treatments.models.sessions import SIGNED_SESSION_FROZEN

pytestmark = pytest.mark.django_db

PERMISSION_DENIED = "42501"  # insufficient_privilege
TRIGGER_REFUSED = "P0001"  # raise_exception, from pgtrigger.Protect


def _sql(statement, *params):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def _refused(*statements):
    """Run the statements in one savepoint; return (sqlstate, message) of the refusal."""
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        for statement in statements:
            _sql(statement)
    cause = refused.value.__cause__
    return cause.diag.sqlstate, cause.diag.message_primary


@pytest.fixture
def record(practitioner):
    """A signed session with an amendment, a patient with history, an access logged."""
    treatment_map = TreatmentMapFactory(created_by=practitioner)
    MapZoneFactory(treatment_map=treatment_map)
    session = make_session(treatment_map, practitioner=practitioner, notes="as signed")
    # The draft -> signed UPDATE, as sign_session makes it (minus the PDF).
    TreatmentSession.objects.filter(pk=session.pk).update(
        status="signed", signed_at=timezone.now(), signed_by=practitioner
    )
    Amendment.objects.create(session=session, author=practitioner, reason="typo", text="fixed")
    patient = PatientFactory()
    AccessLog.objects.create(
        user=practitioner,
        action="view",
        content_type_id=_sql("SELECT id FROM django_content_type LIMIT 1")[0][0],
        object_id=str(patient.pk),
        patient_id=patient.pk,
        path="/",
    )
    return session, patient


def _snapshot():
    return (
        list(AccessLog.objects.values_list("id", "action")),
        list(PatientEvent.objects.values_list("pgh_id", "last_name")),
        list(Amendment.objects.values_list("id", "text")),
        list(TreatmentSession.objects.values_list("id", "notes", "status")),
        list(Patient.objects.values_list("id", "last_name")),
    )


def test_the_tests_run_as_the_application_role(db):
    (user,) = _sql("SELECT current_user")[0]
    assert user == settings.DATABASE_APP_ROLE
    assert user != settings.MIGRATION_DATABASE["USER"]
    assert not dbroles.connected_as_owner()


def test_the_application_role_is_no_superuser_and_owns_nothing(db):
    assert _sql(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles "
        "WHERE rolname = current_user"
    ) == [(False, False, False, False)]
    mine = "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
    assert _sql(f"SELECT relname FROM pg_class WHERE relowner = {mine}") == []  # noqa: S608
    assert _sql(f"SELECT proname FROM pg_proc WHERE proowner = {mine}") == []  # noqa: S608
    assert _sql(
        "SELECT has_schema_privilege('public', 'CREATE'), "
        "has_database_privilege(current_database(), 'CREATE')"
    ) == [(False, False)]
    # And the tables belong to the owner.
    owners = _sql("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert owners == [(settings.MIGRATION_DATABASE["USER"],)]


APPEND_ONLY_TABLES = ["clinic_accesslog", "patients_patientevent", "treatments_amendment"]


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET {column} = {column}",
        "DELETE FROM {table}",
        "TRUNCATE {table}",
        "TRUNCATE {table} CASCADE",
    ],
    ids=["update", "delete", "truncate", "truncate-cascade"],
)
def test_append_only_tables_refuse_changes(record, table, statement):
    column = {"patients_patientevent": "pgh_id"}.get(table, "id")
    before = _snapshot()
    sqlstate, message = _refused(statement.format(table=table, column=column))
    assert (sqlstate, message) == (PERMISSION_DENIED, f"permission denied for table {table}")
    assert _snapshot() == before


def test_every_history_table_is_insert_and_select_only(db):
    from django.apps import apps
    from pghistory.models import Event

    tables = [
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, Event) and not model._meta.proxy
    ]
    assert "patients_patientevent" in tables and "clinic_userevent" in tables
    for table in [*tables, "clinic_accesslog", "treatments_amendment"]:
        granted = _sql(
            "SELECT privilege_type FROM information_schema.table_privileges "
            "WHERE grantee = current_user AND table_name = %s ORDER BY 1",
            table,
        )
        assert granted == [("INSERT",), ("SELECT",)], table


def test_no_table_can_be_truncated(db):
    assert (
        _sql(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
            "AND has_table_privilege(c.oid, 'TRUNCATE')"
        )
        == []
    )


def test_pgtrigger_ignore_does_not_unfreeze_a_signed_session(record):
    session, patient = record
    frozen = SIGNED_SESSION_FROZEN.get_pgid(TreatmentSession)
    no_delete = NO_DELETE.get_pgid(Patient)
    ignore = f"SET LOCAL pgtrigger.ignore = '{{{frozen},{no_delete}}}'"
    before = _snapshot()
    assert _refused(
        ignore,
        f"UPDATE treatments_treatmentsession SET notes = 'forged' WHERE id = {session.pk}",  # noqa: S608
    ) == (TRIGGER_REFUSED, "pgtrigger: Cannot update rows from treatments_treatmentsession table")
    assert _refused(ignore, f"DELETE FROM patients_patient WHERE id = {patient.pk}") == (  # noqa: S608
        TRIGGER_REFUSED,
        "pgtrigger: Cannot delete rows from patients_patient table",
    )
    # The same through pgtrigger's own API.
    import pgtrigger

    with (
        pytest.raises(DatabaseError, match="Cannot update rows"),
        pgtrigger.ignore("treatments.TreatmentSession:signed_is_frozen"),
        transaction.atomic(),
    ):
        TreatmentSession.objects.filter(pk=session.pk).update(notes="forged")
    assert _snapshot() == before


def test_pgtrigger_ignore_does_not_skip_the_history(record):
    _, patient = record
    history = PatientEvent.objects.filter(pgh_obj_id=patient.pk)
    events = history.count()
    pgids = _sql(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'patients_patient'::regclass "
        "AND NOT tgisinternal"
    )
    with transaction.atomic():
        _sql(f"SET LOCAL pgtrigger.ignore = '{{{','.join(name for (name,) in pgids)}}}'")
        _sql(f"UPDATE patients_patient SET last_name = 'Forged' WHERE id = {patient.pk}")  # noqa: S608
    assert history.count() == events + 1
    assert history.latest("pgh_id").last_name == "Forged"


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "SET session_replication_role = replica",
            'permission denied to set parameter "session_replication_role"',
        ),
        (
            "SET LOCAL session_replication_role = replica",
            'permission denied to set parameter "session_replication_role"',
        ),
        (
            "ALTER TABLE treatments_treatmentsession DISABLE TRIGGER ALL",
            "must be owner of table treatments_treatmentsession",
        ),
        (
            "ALTER TABLE treatments_treatmentsession DISABLE TRIGGER {frozen}",
            "must be owner of table treatments_treatmentsession",
        ),
        (
            "DROP TRIGGER {frozen} ON treatments_treatmentsession",
            "must be owner of relation treatments_treatmentsession",
        ),
        (
            "CREATE OR REPLACE FUNCTION public._pgtrigger_should_ignore(trigger_name NAME) "
            "RETURNS BOOLEAN AS $$ BEGIN RETURN TRUE; END; $$ LANGUAGE plpgsql",
            "permission denied for schema public",
        ),
        (
            "CREATE FUNCTION public._pgtrigger_should_ignore(trigger_name TEXT) "
            "RETURNS BOOLEAN AS $$ BEGIN RETURN TRUE; END; $$ LANGUAGE plpgsql",
            "permission denied for schema public",
        ),
        ("CREATE SCHEMA mine", "permission denied for database {database}"),
        ("SET ROLE {owner}", 'permission denied to set role "{owner}"'),
        (
            "SET SESSION AUTHORIZATION {owner}",
            'permission denied to set session authorization "{owner}"',
        ),
        (
            "ALTER TABLE clinic_accesslog OWNER TO current_user",
            "must be owner of table clinic_accesslog",
        ),
    ],
    ids=[
        "replication-role",
        "replication-role-local",
        "disable-all-triggers",
        "disable-trigger",
        "drop-trigger",
        "replace-ignore-function",
        "overload-ignore-function",
        "create-schema",
        "set-role",
        "session-authorization",
        "take-ownership",
    ],
)
def test_the_guards_cannot_be_switched_off(record, statement, message):
    names = {
        "frozen": SIGNED_SESSION_FROZEN.get_pgid(TreatmentSession),
        "owner": settings.MIGRATION_DATABASE["USER"],
        "database": connection.settings_dict["NAME"],
    }
    before = _snapshot()
    sqlstate, refusal = _refused(statement.format(**names))
    assert (sqlstate, refusal) == (PERMISSION_DENIED, message.format(**names))
    assert _snapshot() == before


def test_the_ignore_function_is_ours(db):
    (source,) = _sql(
        "SELECT prosrc FROM pg_proc WHERE oid = "
        "'public._pgtrigger_should_ignore(name)'::regprocedure"
    )[0]
    assert "session_user <>" in source


def test_privileges_follow_the_policy(db):
    privileges = dbroles.table_privileges()
    assert privileges["clinic_accesslog"] == dbroles.APPEND_ONLY
    assert privileges["treatments_amendment"] == dbroles.APPEND_ONLY
    assert privileges["patients_patientevent"] == dbroles.APPEND_ONLY
    # axes: counters it updates and deletes; its log gets the logout time.
    assert privileges["axes_accessattempt"] == dbroles.ALL
    assert privileges["axes_accesslog"] == {"SELECT", "INSERT", "UPDATE (logout_time)"}
    assert privileges["pghistory_context"] == {"SELECT"}
    assert privileges["django_admin_log"] == dbroles.APPEND_ONLY
    # Clinical tables that refuse DELETE by trigger keep the privilege: the trigger
    # answers (tests/treatments/test_signing.py checks its own error).
    assert privileges["treatments_treatmentsession"] == dbroles.ALL
    for table, expected in privileges.items():
        if not _sql("SELECT 1 FROM pg_tables WHERE tablename = %s", table):
            continue
        granted = _sql(
            "SELECT privilege_type FROM information_schema.table_privileges "
            "WHERE grantee = current_user AND table_name = %s",
            table,
        )
        # Column privileges ("UPDATE (logout_time)") are listed per column, apart.
        assert {row[0] for row in granted} == {p for p in expected if "(" not in p}, table
        columns = _sql(
            "SELECT privilege_type, column_name FROM information_schema.column_privileges "
            "WHERE grantee = current_user AND table_name = %s AND privilege_type = 'UPDATE'",
            table,
        )
        if "UPDATE" not in expected:
            assert {f"UPDATE ({column})" for _, column in columns} == {
                p for p in expected if p.startswith("UPDATE (")
            }, table


def test_granting_itself_more_changes_nothing(db):
    # Not an error, only a warning ("no privileges were granted"): check the effect.
    _sql("GRANT UPDATE, DELETE, TRUNCATE ON clinic_accesslog TO current_user")
    assert _sql(
        "SELECT has_table_privilege('clinic_accesslog', 'UPDATE'), "
        "has_table_privilege('clinic_accesslog', 'DELETE'), "
        "has_table_privilege('clinic_accesslog', 'TRUNCATE')"
    ) == [(False, False, False)]


# --- Temporary tables cannot shadow what the triggers read and write -------------------
#
# PostgreSQL looks a name up in the session's temporary schema first, unless the
# search_path places pg_temp. The trigger functions name their tables without a schema:
# a temporary `treatments_treatmentsession` with no signed row made the freeze see no
# signed session, and a temporary `…event` table swallowed the history row.


@pytest.fixture
def owner_cursor():
    """A cursor on the test database as its owner (MIGRATION_DATABASE_URL), autocommit."""
    import psycopg2

    params = connection.get_connection_params()
    params["user"] = settings.MIGRATION_DATABASE["USER"]
    params["password"] = settings.MIGRATION_DATABASE["PASSWORD"] or ""
    owner = psycopg2.connect(**params)
    owner.autocommit = True
    try:
        with owner.cursor() as cursor:
            yield cursor
    finally:
        owner.close()


@pytest.fixture
def temporary_tables_granted(owner_cursor):
    """Give the application's role TEMPORARY back for one test: the search_path of the
    trigger functions must hold on its own, not only behind the revoked privilege."""
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    app = connection.ops.quote_name(settings.DATABASE_APP_ROLE)
    owner_cursor.execute(f"GRANT TEMPORARY ON DATABASE {database} TO {app}")
    try:
        yield
    finally:
        owner_cursor.execute(f"REVOKE TEMPORARY ON DATABASE {database} FROM {app}")


def test_the_application_role_may_not_create_temporary_tables(record):
    assert _sql("SELECT has_database_privilege(current_database(), 'TEMPORARY')") == [(False,)]
    sqlstate, message = _refused(
        "CREATE TEMP TABLE treatments_treatmentsession (id bigint, status text)"
    )
    assert sqlstate == PERMISSION_DENIED
    assert message.startswith("permission denied to create temporary tables in database")


def _shadow(*tables):
    """Temporary tables named like public ones: empty copies of their columns."""
    return [
        f"CREATE TEMP TABLE {table} AS SELECT * FROM public.{table} WHERE false"  # noqa: S608
        for table in tables
    ]


def test_every_function_of_the_owner_fixes_its_search_path(db):
    functions = _sql(
        "SELECT p.proname, p.proconfig FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d "
        "WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')"
    )
    names = {name for name, _ in functions}
    # The trigger functions of pgtrigger and pghistory, and the two helpers.
    assert {"_pgtrigger_should_ignore", "_pgh_attach_context"} <= names
    assert any(name.startswith("pgtrigger_") for name in names)
    for name, config in functions:
        assert config == [f"search_path={dbroles.SEARCH_PATH}"], name
    assert dbroles.SEARCH_PATH.split(", ")[-1] == "pg_temp"


@pytest.mark.usefixtures("temporary_tables_granted")
@pytest.mark.parametrize(
    ("shadowed", "attack"),
    [
        (
            ["treatments_treatmentsession", "treatments_injectionevent"],
            "UPDATE public.treatments_injection SET volume_ml = 9.99, points = 999 "
            "WHERE id = {injection}",
        ),
        (
            ["treatments_treatmentsession", "treatments_injection", "treatments_injectionlotevent"],
            "DELETE FROM public.treatments_injectionlot WHERE id = {lot_use}",
        ),
        (
            ["treatments_treatmentsession", "treatments_injectionlotevent"],
            "UPDATE public.treatments_injectionlot SET lot_number = 'FORGED' WHERE id = {lot_use}",
        ),
    ],
    ids=["injection-dose", "lot-use-removed", "lot-use-changed"],
)
def test_a_temporary_table_does_not_unfreeze_a_signed_session(record, shadowed, attack):
    session, _ = record
    injection = session.injections.get()
    names = {"injection": injection.pk, "lot_use": injection.lots.first().pk}
    before = _snapshot(), list(injection.lots.values_list("id", "lot_number"))
    sqlstate, message = _refused(*_shadow(*shadowed), attack.format(**names))
    assert (sqlstate, message) == (
        "23001",  # restrict_violation, from the freeze trigger
        "session is signed: record an amendment instead",
    )
    injection.refresh_from_db()
    assert (injection.volume_ml, injection.points) != (Decimal("9.99"), 999)
    assert (_snapshot(), list(injection.lots.values_list("id", "lot_number"))) == before


@pytest.mark.usefixtures("temporary_tables_granted")
@pytest.mark.parametrize(
    ("table", "events", "column", "row"),
    [
        ("patients_patient", "patients_patientevent", "medical_history", "patient"),
        ("treatments_treatmentsession", "treatments_treatmentsessionevent", "notes", "draft"),
    ],
    ids=["patient", "draft-session"],
)
def test_a_temporary_table_does_not_swallow_the_history(
    record, practitioner, table, events, column, row
):
    _, patient = record
    draft = make_session(TreatmentMapFactory(created_by=practitioner), practitioner=practitioner)
    pk = {"patient": patient.pk, "draft": draft.pk}[row]
    count = f"SELECT count(*) FROM public.{events} WHERE pgh_obj_id = %s"  # noqa: S608
    (recorded,) = _sql(count, pk)[0]
    with transaction.atomic():
        for statement in _shadow(events):
            _sql(statement)
        _sql(f"UPDATE public.{table} SET {column} = 'shadowed' WHERE id = %s", pk)  # noqa: S608
        # The temporary table got nothing; the real history got the change.
        assert _sql(f"SELECT count(*) FROM pg_temp.{events}") == [(0,)]  # noqa: S608
    assert _sql(count, pk) == [(recorded + 1,)]
    latest = f"SELECT {column} FROM public.{events} WHERE pgh_obj_id = %s ORDER BY pgh_id DESC"  # noqa: S608
    assert _sql(latest, pk)[0] == ("shadowed",)


# --- Who did what cannot be rewritten ---------------------------------------------------


def test_history_context_cannot_be_rewritten(record, practitioner, outsider):
    import pghistory

    _, patient = record
    with pghistory.context(user=practitioner.pk, url="/patients/"):
        Patient.objects.filter(pk=patient.pk).update(allergy_status="listed", allergies="latex")
    event = PatientEvent.objects.filter(pgh_obj_id=patient.pk).latest("pgh_id")
    context_id = str(event.pgh_context_id)
    assert _sql("SELECT has_table_privilege('pghistory_context', 'UPDATE')") == [(False,)]
    assert _refused(
        f"UPDATE pghistory_context SET metadata = '{{\"user\": {outsider.pk}}}'"  # noqa: S608
    ) == (PERMISSION_DENIED, "permission denied for table pghistory_context")
    # Nor through pghistory's own upsert, with the context's id claimed again.
    sqlstate, message = _refused(
        f"SET LOCAL pghistory.context_id = '{context_id}'",
        f'SET LOCAL pghistory.context_metadata = \'{{"user": {outsider.pk}, "url": "/"}}\'',
        "SELECT _pgh_attach_context()",
    )
    assert (sqlstate, message) == (
        PERMISSION_DENIED,
        f"history context {context_id} is append-only",
    )
    event.refresh_from_db()
    assert event.pgh_context.metadata == {"user": practitioner.pk, "url": "/patients/"}


def test_a_nested_history_context_still_adds_to_the_request(record, practitioner):
    import pghistory

    _, patient = record
    with pghistory.context(user=practitioner.pk):
        Patient.objects.filter(pk=patient.pk).update(allergy_status="listed", allergies="latex")
        with pghistory.context(reason="intake"):
            Patient.objects.filter(pk=patient.pk).update(allergies="latex, nickel")
    event = PatientEvent.objects.filter(pgh_obj_id=patient.pk).latest("pgh_id")
    assert event.pgh_context.metadata == {"user": practitioner.pk, "reason": "intake"}


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE axes_accesslog SET username = 'someone-else'", "axes_accesslog"),
        ("UPDATE axes_accesslog SET ip_address = '10.0.0.9'", "axes_accesslog"),
        ("DELETE FROM axes_accesslog", "axes_accesslog"),
        ("UPDATE django_admin_log SET object_repr = 'forged'", "django_admin_log"),
        ("DELETE FROM django_admin_log", "django_admin_log"),
    ],
    ids=["signin-username", "signin-address", "signin-delete", "console-log", "console-delete"],
)
def test_sign_in_and_console_logs_cannot_be_rewritten(db, statement, refusal):
    assert _refused(statement) == (PERMISSION_DENIED, f"permission denied for table {refusal}")


def test_axes_may_still_write_the_sign_out_time(catalogue_admin):
    from axes.models import AccessLog as SignIns
    from django.contrib.admin.models import LogEntry

    entry = SignIns.objects.create(username="someone", ip_address="127.0.0.1", user_agent="t")
    SignIns.objects.filter(pk=entry.pk).update(logout_time=timezone.now())
    entry.refresh_from_db()
    assert entry.logout_time is not None
    # The console writes its change log (insert only).
    LogEntry.objects.create(
        user=catalogue_admin, action_flag=1, object_repr="lot", change_message="[]"
    )
    assert LogEntry.objects.count() == 1
