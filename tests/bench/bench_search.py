"""Patient search benchmark: median server time over 100,000 patients.

    .venv/bin/python -m tests.bench.bench_search [--patients 100000] [--runs 30]

Uses its own database (mesochart_bench) on the local PostgreSQL, or on the
server DATABASE_URL names, so the development data is untouched. The patients
are generated once and kept for later runs. Timing is the whole request inside
Django (middleware, query, template), measured with the test client.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))
BENCH_DB = "mesochart_bench"


def _point_at_bench_database() -> None:
    import psycopg2

    from clinic.devdb import default_cluster, start

    url = os.environ.get("DATABASE_URL") or start(default_cluster())
    base, _, query = url.partition("?")
    server = base.rsplit("/", 1)[0]
    conn = psycopg2.connect(server + "/postgres" + (f"?{query}" if query else ""))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{BENCH_DB}"')
    conn.close()
    os.environ["DATABASE_URL"] = f"{server}/{BENCH_DB}" + (f"?{query}" if query else "")


def _populate(count: int) -> None:
    from faker import Faker

    from patients.models import Patient

    existing = Patient.objects.count()
    if existing >= count:
        return
    fake = Faker(["fr_CA", "en_US", "es_ES", "de_DE"])
    Faker.seed(2026)
    batch = []
    started = time.perf_counter()
    for number in range(existing + 1, count + 1):
        batch.append(
            Patient(
                chart_number=f"MC-{number:06d}",
                first_name=fake.first_name(),
                last_name=fake.last_name(),
                date_of_birth=date(1940, 1, 1) + timedelta(days=fake.random_int(0, 29000)),
                phone=f"514-{fake.random_int(200, 999)}-{fake.random_int(0, 9999):04d}",
                phototype=fake.random_int(1, 6),
            )
        )
        if len(batch) == 5000:
            Patient.objects.bulk_create(batch)
            batch = []
    if batch:
        Patient.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE patients_patient")
    print(f"inserted {count - existing} patients in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    _point_at_bench_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.test import Client

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    _populate(args.patients)

    from patients.models import Patient

    user, _ = User.objects.get_or_create(username="bench")
    user.groups.add(Group.objects.get(name="Practitioner"))
    client = Client()
    client.force_login(user)

    sample = Patient.objects.order_by("pk")[args.patients // 2]
    typo = sample.last_name[:-1] + ("x" if sample.last_name[-1] != "x" else "y")
    terms = {
        "surname": sample.last_name,
        "full name, lower case, no accents": _fold(f"{sample.first_name} {sample.last_name}"),
        "surname with a one-letter typo": typo,
        "chart number": sample.chart_number,
        "phone": sample.phone,
        "birth date": sample.date_of_birth.isoformat(),
        "no search (first page)": "",
    }
    print(f"{Patient.objects.count():,} patients; {args.runs} requests per search")
    medians = []
    for label, term in terms.items():
        client.get("/patients/", {"q": term})  # warm caches
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get("/patients/", {"q": term})
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        found = response.content.count(b'<td><a href="/patients/')
        median = statistics.median(timings)
        medians.append(median)
        p95 = sorted(timings)[int(len(timings) * 0.95) - 1]
        print(
            f"  {label:38} {term!r:34} median {median:6.1f} ms  p95 {p95:6.1f} ms"
            f"  ({found} on page)"
        )
    print(f"worst median {max(medians):.1f} ms (target: at most 20 ms)")


def _fold(text: str) -> str:
    from patients.search import fold

    return fold(text)


if __name__ == "__main__":
    main()
