"""Patient search benchmark: median server time over 100,000 patients.

    .venv/bin/python -m tests.bench.bench_search [--patients 100000] [--runs 30]

main() uses its own database (mesochart_bench) on the local PostgreSQL, or on the
server DATABASE_URL names, so the development data is untouched. The patients
are generated once and kept for later runs. Timing is the whole request inside
Django (middleware, query, template), measured with the test client.

run() does the work on whatever database Django is already set up with: the
test suite calls it at a tiny size (tests/bench/test_benchmarks_run.py) so that
the benchmark cannot rot unnoticed.
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))
BENCH_DB = "mesochart_bench"


def _point_at_bench_database() -> None:
    """Create mesochart_bench as the owner; point both connections (the application's
    and the owner's, for migrate) at it."""
    import psycopg2

    from clinic.devdb import default_cluster, start

    if os.environ.get("DATABASE_URL"):
        app_url = os.environ["DATABASE_URL"]
        owner_url = os.environ.get("MIGRATION_DATABASE_URL") or app_url
    else:
        cluster = default_cluster()
        start(cluster)
        app_url, owner_url = cluster.url, cluster.owner_url

    def on(url: str, database: str) -> str:
        base, _, query = url.partition("?")
        return base.rsplit("/", 1)[0] + f"/{database}" + (f"?{query}" if query else "")

    conn = psycopg2.connect(on(owner_url, "postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{BENCH_DB}"')
    conn.close()
    os.environ["DATABASE_URL"] = on(app_url, BENCH_DB)
    os.environ["MIGRATION_DATABASE_URL"] = on(owner_url, BENCH_DB)


def setup_bench_database() -> None:
    """Point Django at mesochart_bench (created if missing), set it up and migrate it."""
    _point_at_bench_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)


def median_and_p95(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), sorted(samples)[max(int(len(samples) * 0.95) - 1, 0)]


def bench_client(user_defaults: dict | None = None):
    """A test client signed in as the practitioner "bench"."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from clinic.roles import PRACTITIONER

    user, _ = User.objects.get_or_create(username="bench", defaults=user_defaults or {})
    user.groups.add(Group.objects.get(name=PRACTITIONER))
    client = Client()
    client.force_login(user)
    return client, user


def _populate(count: int) -> None:
    from django.db import connection
    from faker import Faker

    from patients.models import Patient

    existing = Patient.objects.count()
    if existing >= count:
        _move_chart_number_sequence_past(existing)  # a database seeded before it did
        return
    fake = Faker(["fr_CA", "en_US", "es_ES", "de_DE"])
    # This generator only: Faker.seed() would reseed every Faker in the process.
    fake.seed_instance(2026)
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
    _move_chart_number_sequence_past(count)
    with connection.cursor() as cur:
        cur.execute("ANALYZE patients_patient")
    print(f"inserted {count - existing} patients in {time.perf_counter() - started:.0f} s")


def _move_chart_number_sequence_past(number: int) -> None:
    """The chart numbers seeded here are not drawn from the sequence: a patient added
    later (Patient.save) must not be given one of them again."""
    from django.db import connection

    # nextval, not setval: the application's role may draw numbers from the
    # sequence but not set it. One more than needed when it was never drawn from.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(nextval('patients_chart_number_seq')) FROM generate_series("
            "1, %s - (SELECT last_value FROM patients_chart_number_seq) + 1)",
            [number],
        )


@dataclass(frozen=True)
class SearchTiming:
    label: str
    term: str
    median_ms: float
    p95_ms: float
    on_page: int  # patient rows on the result page
    sample_found: bool  # the patient the term was taken from is on the page


@dataclass(frozen=True)
class SearchResult:
    patients: int
    runs: int
    searches: list[SearchTiming]

    @property
    def worst_median_ms(self) -> float:
        return max(s.median_ms for s in self.searches)


def run(*, patients: int = 100_000, runs: int = 30) -> SearchResult:
    """Seed up to `patients` patients, then time each kind of search `runs` times.

    Works on the database Django is set up with; prints as it goes.
    """
    from patients.models import Patient

    _populate(patients)
    client, _ = bench_client()

    sample = Patient.objects.order_by("pk")[patients // 2]
    surname = _fold(sample.last_name)
    typo = sample.last_name[:-1] + ("x" if sample.last_name[-1] != "x" else "y")
    born = sample.date_of_birth
    terms = {
        "surname": sample.last_name,
        "full name, lower case, no accents": _fold(f"{sample.first_name} {sample.last_name}"),
        "surname with a one-letter typo": typo,
        "surname, two letters swapped": surname[0] + surname[2] + surname[1] + surname[3:],
        "surname, one letter dropped": surname[:2] + surname[3:],
        "chart number": sample.chart_number,
        "phone": sample.phone,
        "birth date": born.isoformat(),
        "birth date, month first": f"{born.month}/{born.day}/{born.year}",
        "birth year": str(born.year),
        "no search (first page)": "",
    }
    sample_link = f'<td><a href="{sample.get_absolute_url()}"'.encode()
    total = Patient.objects.count()
    print(f"{total:,} patients; {runs} requests per search")
    searches = []
    for label, term in terms.items():
        client.get("/patients/", {"q": term})  # warm caches
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get("/patients/", {"q": term})
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, f"{label}: HTTP {response.status_code}"
        median, p95 = median_and_p95(timings)
        timing = SearchTiming(
            label=label,
            term=term,
            median_ms=median,
            p95_ms=p95,
            on_page=response.content.count(b'<td><a href="/patients/'),
            sample_found=sample_link in response.content,
        )
        searches.append(timing)
        print(
            f"  {label:38} {term!r:34} median {median:6.1f} ms  p95 {p95:6.1f} ms"
            f"  ({timing.on_page} on page{'' if timing.sample_found else ', not the sample'})"
        )
    result = SearchResult(patients=total, runs=runs, searches=searches)
    print(f"worst median {result.worst_median_ms:.1f} ms (target: at most 20 ms)")
    return result


def _fold(text: str) -> str:
    from patients.search import fold

    return fold(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if args.patients < 1 or args.runs < 1:
        parser.error("--patients and --runs must be at least 1")
    setup_bench_database()
    run(patients=args.patients, runs=args.runs)


if __name__ == "__main__":
    main()
