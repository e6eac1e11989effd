"""Report pages on a real streaming replica, observed: tests/operations/test_replica.py
runs this in a process of its own (its settings name the replica), and asserts on the
JSON it prints.

    python -m tests.operations.replica_scenario <folder>

In <folder>: a primary cluster (migrated, a patient with a lot use) and a hot standby
made from it with pg_basebackup. With the standby's replay paused, the patient is
renamed on the primary: the pages that read from the replica still show the old name,
the others the new one. Then replay resumes, and then the standby is stopped.
"""

import json
import os
import sys
import time
from pathlib import Path

OLD, NEW = "Replicaold", "Primarynew"


def main(folder: Path) -> dict:
    from clinic.localdb import Cluster

    primary, replica = Cluster(folder / "primary"), Cluster(folder / "replica")
    for name in ("DATABASE_URL", "MIGRATION_DATABASE_URL"):
        os.environ.pop(name, None)  # the clusters below, never another server
    os.environ["MESOCHART_PGROOT"] = str(primary.root)
    os.environ["DATABASE_REPLICA_URL"] = replica.url
    os.environ["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
    from operations import devdb

    devdb.start(primary)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        devdb.start_replica(primary, replica)
        return scenario(primary, replica)
    finally:
        devdb.stop(replica)
        devdb.stop(primary)


def _superuser_sql(cluster, sql: str):
    import psycopg2

    from clinic.localdb import DB_NAME
    from operations.devdb import DB_USER

    conn = psycopg2.connect(dbname=DB_NAME, user=DB_USER, host=str(cluster.socket_dir))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0] if cursor.description else None
    finally:
        conn.close()


def _caught_up(primary, replica) -> None:
    target = _superuser_sql(primary, "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + 30
    while not _superuser_sql(
        replica,
        f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn",  # noqa: S608
    ):
        if time.monotonic() > deadline:
            raise SystemExit("the replica did not catch up within 30 s")
        time.sleep(0.1)


def scenario(primary, replica) -> dict:
    from django.db import connections
    from django.test import Client
    from django.urls import reverse

    from clinic.models import AccessLog
    from clinic.roles import PRACTITIONER
    from patients.models import Patient
    from tests.factories import (
        CompoundFactory,
        FormulaFactory,
        MapZoneFactory,
        TreatmentMapFactory,
        UserFactory,
        make_session,
    )
    from treatments.models import InjectionLot

    practitioner = UserFactory(username="rita", roles=[PRACTITIONER])
    plan = TreatmentMapFactory(patient__last_name=OLD, created_by=practitioner)
    formula = FormulaFactory(name="Replica test", compounds=[CompoundFactory(name="Caffeine")])
    MapZoneFactory(treatment_map=plan, region_code="thigh_outer_left", formula=formula)
    session = make_session(plan, practitioner=practitioner)
    patient = session.patient
    lot = InjectionLot.objects.filter(injection__session=session).first().lot
    client = Client()
    client.force_login(practitioner)
    pages = {
        "recall": reverse("treatments:lot_recall", args=[lot.pk]),
        "recall_csv": reverse("treatments:lot_recall_csv", args=[lot.pk]),
        "fhir": reverse("patient_fhir", args=[patient.pk]),
        "chart": reverse("patients:chart", args=[patient.pk]),
    }

    def look() -> dict:
        seen = {}
        for name, path in pages.items():
            response = client.get(path, HTTP_HOST="127.0.0.1")
            body = b"".join(response) if response.streaming else response.content
            text = body.decode()
            seen[name] = {
                "status": response.status_code,
                "old": OLD in text,
                "new": NEW in text,
            }
        return seen

    def logged() -> int:
        return AccessLog.objects.using("default").filter(patient_id=patient.pk).count()

    _caught_up(primary, replica)
    _superuser_sql(replica, "SELECT pg_wal_replay_pause()")
    Patient.objects.filter(pk=patient.pk).update(last_name=NEW)
    before = logged()
    paused = look()
    writes_while_paused = logged() - before
    on_replica = AccessLog.objects.using("replica").filter(patient_id=patient.pk).count()
    _superuser_sql(replica, "SELECT pg_wal_replay_resume()")
    _caught_up(primary, replica)
    resumed = look()
    from operations import devdb

    devdb.stop(replica)
    connections["replica"].close()
    down = look()
    return {
        "paused": paused,
        "writes_while_paused": writes_while_paused,
        "access_log_rows_on_replica_while_paused": on_replica,
        "access_log_rows_before": before,
        "resumed": resumed,
        "replica_down": down,
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
