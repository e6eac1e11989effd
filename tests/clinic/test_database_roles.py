"""The application's database role cannot rewrite the record, nor switch off what guards it.

The suite runs connected as that role (tests/conftest.py): each statement here is
what a compromised application could send. Each must fail, and change nothing.
"""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clinic import dbroles
from clinic.models import NO_DELETE, AccessLog
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
    assert "current_user <>" in source


def test_privileges_follow_the_policy(db):
    privileges = dbroles.table_privileges()
    assert privileges["clinic_accesslog"] == dbroles.APPEND_ONLY
    assert privileges["treatments_amendment"] == dbroles.APPEND_ONLY
    assert privileges["patients_patientevent"] == dbroles.APPEND_ONLY
    # axes: counters it updates and deletes; its log gets the logout time.
    assert privileges["axes_accessattempt"] == dbroles.ALL
    assert privileges["axes_accesslog"] == {"SELECT", "INSERT", "UPDATE"}
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
        assert {row[0] for row in granted} == expected, table


def test_granting_itself_more_changes_nothing(db):
    # Not an error, only a warning ("no privileges were granted"): check the effect.
    _sql("GRANT UPDATE, DELETE, TRUNCATE ON clinic_accesslog TO current_user")
    assert _sql(
        "SELECT has_table_privilege('clinic_accesslog', 'UPDATE'), "
        "has_table_privilege('clinic_accesslog', 'DELETE'), "
        "has_table_privilege('clinic_accesslog', 'TRUNCATE')"
    ) == [(False, False, False)]
