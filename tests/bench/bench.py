"""Page benchmark against a baseline page, under concurrent load, on gunicorn: `make bench`.

    .venv/bin/python -m tests.bench.bench [--patients 100000] [--seconds 10] [--clients 4]

1. The database mesochart_bench (on the local PostgreSQL, or the server DATABASE_URL names),
   migrated, with its data generated once (tests/bench/data.py) and kept; generated again
   from an empty database when the number of patients asked differs.
2. gunicorn as `make run` starts it (clinic/gunicorn.conf.py, WEB_CONCURRENCY=2), on a
   free loopback port, with tests.bench.settings: the product plus the baseline page (a
   signed-in page, one trivial query, the base template).
3. A separate process (tests/bench/load.py) with --clients concurrent clients, signed in
   like people (password, and the authenticator's code with REQUIRE_2FA on, as in
   production: the default here), drives one page at a time for --seconds, the baseline
   page before each one and at the end; every answer is checked (status, and a marker of
   the page's content or the redirect expected), a failed request is counted.
4. Per page: requests, median and p95 latency, requests per second, p95 divided by the p95
   of the baseline measured just before and just after it (so both met the same load from
   the machine's other work), and the target; each gunicorn worker's resident memory
   after the run.
   The table is printed and written to var/bench/latest.md (for BENCHMARKS.md).

run() does steps 2 to 4 on whatever database Django is set up with: the suite runs it at
a tiny size on the test database (tests/bench/test_benchmarks_run.py).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))
BENCH_DB = "mesochart_bench"
BENCH_DIR = BASE_DIR / "var" / "bench"
WORKERS = 2
# The zones of the session saved and signed: every zone of the front of the body.
FOURTEEN_ZONES = (
    "arm_right",
    "arm_left",
    "abdomen_upper",
    "abdomen_lower",
    "flank_right",
    "flank_left",
    "thigh_outer_right",
    "thigh_front_right",
    "thigh_inner_right",
    "thigh_inner_left",
    "thigh_front_left",
    "thigh_outer_left",
    "knee_right",
    "knee_left",
)
# Issue 12's targets: p95 within this many times the baseline's p95.
GENERAL, SEARCH, SAVE = 2.5, 2.0, 5.0
SIGN_MEDIAN_MS = 1000  # signing (its PDF drawn) is judged on its own median
WORKER_MB = 150


# --- The database ----------------------------------------------------------------------------


def _urls() -> tuple[str, str]:
    """(application, owner) URLs of the server: DATABASE_URL's, or the local cluster's."""
    if os.environ.get("DATABASE_URL"):
        app_url = os.environ["DATABASE_URL"]
        return app_url, os.environ.get("MIGRATION_DATABASE_URL") or app_url
    from operations.devdb import default_cluster, start

    cluster = default_cluster()
    start(cluster)
    return cluster.url, cluster.owner_url


def _on(url: str, database: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{database}" + (f"?{query}" if query else "")


def _point_at_bench_database(*, drop: bool = False) -> None:
    """Create mesochart_bench as the owner (dropped first if `drop`); point both
    connections (the application's and the owner's, for migrate) at it."""
    import psycopg2

    app_url, owner_url = _urls()
    conn = psycopg2.connect(_on(owner_url, "postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        if drop:
            cur.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{BENCH_DB}"')
    conn.close()
    os.environ["DATABASE_URL"] = _on(app_url, BENCH_DB)
    os.environ["MIGRATION_DATABASE_URL"] = _on(owner_url, BENCH_DB)


def setup_bench_database(patients: int):
    """mesochart_bench migrated and holding `patients` demo patients; the showcase."""
    _point_at_bench_database()
    # Its own folder, emptied when the data is generated again: never the app's media.
    os.environ["MEDIA_ROOT"] = str(BENCH_DIR / "media")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from tests.bench.data import demo_patients, ensure_data

    call_command("migrate", verbosity=0)
    held = demo_patients()
    if held not in (0, patients):
        print(f"{BENCH_DB} holds {held:,} demo patients, not {patients:,}: generated again")
        connections.close_all()
        _point_at_bench_database(drop=True)
        shutil.rmtree(os.environ["MEDIA_ROOT"], ignore_errors=True)
        call_command("migrate", verbosity=0)
    return ensure_data(patients)


# --- The clients' accounts and the pages ----------------------------------------------------------


def prepare_accounts(count: int, require_2fa: bool) -> list[dict]:
    """Per client: a practitioner with a patient of their own (a 14-zone map, a treatment
    consent in force) to save and sign sessions for, a catalogue administrator for the
    console and a privacy officer for the audit search, each with an authenticator."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clinic.roles import CATALOGUE_ADMIN, PRIVACY_OFFICER
    from tests.factories import UserFactory
    from tests.live.people import make_person

    accounts = []
    for n in range(1, count + 1):
        person = make_person(f"bench-{n}", prefix="Bench", regions=FOURTEEN_ZONES, consent=True)
        admin = UserFactory(username=f"bench-console-{n}", roles=[CATALOGUE_ADMIN])
        TOTPDevice.objects.filter(user=admin).delete()
        device = TOTPDevice.objects.create(user=admin, name="load phone", confirmed=True)
        officer = UserFactory(username=f"bench-privacy-{n}", roles=[PRIVACY_OFFICER])
        TOTPDevice.objects.filter(user=officer).delete()
        officer_device = TOTPDevice.objects.create(user=officer, name="load phone", confirmed=True)
        accounts.append(
            {
                "practitioner": {
                    "username": person.username,
                    "key": person.key.hex(),
                    "second_step": require_2fa,
                },
                "console": {
                    "username": admin.username,
                    "key": device.bin_key.hex(),
                    "second_step": True,  # always, for the console's people
                },
                "privacy": {
                    "username": officer.username,
                    "key": officer_device.bin_key.hex(),
                    "second_step": require_2fa,
                },
                "patient_id": person.patient_id,
                "form": person.form,
            }
        )
    return accounts


def pages(show) -> list[dict]:
    """Every page driven, with what its answer must show and its target."""
    from django.utils.html import escape

    from patients.search import fold

    region, lot, compound = (
        escape(show.region_label),
        escape(show.lot_number),
        escape(show.compound_name),
    )
    patient = f"/patients/{show.long_patient_id}/"
    session = f"/sessions/{show.session_id}/"
    sample = f'href="/patients/{show.sample_id}/"'
    # The commonest surname of the data (find_showcase), and one slip of each kind.
    last = show.sample_last_name
    typo = last[:-2] + ("x" if last[-2] != "x" else "y") + last[-1]
    dropped = last[:3] + last[4:]

    def get(name, path, markers, target=GENERAL, **extra):
        page = {"name": name, "kind": "get", "path": path, "status": 200, "markers": markers}
        return page | {"target": target} | extra

    def search(name, term):
        return get(f"search: {name}", "/patients/?" + urlencode({"q": term}), [sample], SEARCH)

    written = r"/sessions/\d+/"
    return [
        search("full name", fold(f"{show.sample_first_name} {last}")),
        search("surname with a typo", f"{show.sample_first_name} {typo}"),
        search("surname with a letter dropped", f"{show.sample_first_name} {dropped}"),
        # Its holders fill more than a page: the marker is one of them, listed.
        get(
            "search: surname alone",
            "/patients/?" + urlencode({"q": last}),
            [f">{escape(last)}, "],
            SEARCH,
        ),
        search("chart number", show.sample_chart_number),
        search("birth date", show.sample_born.isoformat()),
        get(
            f"chart ({show.long_sessions} sessions)",
            patient,
            [show.long_chart_number, 'data-testid="sessions"', f'href="{session}"'],
        ),
        get(
            "map page",
            f"/maps/{show.map_id}/",
            [show.long_chart_number, f'data-testid="zone-{show.region_code}"'],
        ),
        get("session page", session, [region, f'href="{session}pdf/"']),
        # Paper is in the patient's language (a third of demo patients read French):
        # its markers are the record's own numbers, the same in both languages.
        get("print view", f"{session}print/", [show.long_chart_number, lot]),
        get("stored PDF", f"{session}pdf/", ["%PDF-"]),
        get("dashboard", "/", ['id="today-heading"', 'id="drafts-heading"']),
        get(
            "lot recall DEMO-RECALL-1 (first page)",
            f"/lots/{show.recall_lot_id}/recall/",
            ["Lot DEMO-RECALL-1", 'data-testid="recall-patient"'],
        ),
        get(
            "lot recall, most-used lot (first page)",
            f"/lots/{show.busiest_lot_id}/recall/",
            [f"Lot {escape(show.busiest_lot_number)}", 'data-testid="recall-patient"'],
        ),
        get(
            "lot recall, median lot (first page)",
            f"/lots/{show.median_lot_id}/recall/",
            [f"Lot {escape(show.median_lot_number)}", 'data-testid="recall-patient"'],
        ),
        # Every patient of the most-used lot, streamed: held to the whole file within
        # 10 s (issue 24), not to a ratio, one download at a time.
        get(
            "lot recall CSV, most-used lot (one client)",
            f"/lots/{show.busiest_lot_id}/recall.csv",
            ["Chart number,Last name"],
            whole_file_ms=10_000,
            alone=True,
        ),
        get(
            f"booklet ({show.long_sessions} sessions)",
            f"{patient}booklet/",
            # Oldest first: the lot of the oldest session, whatever the data's size.
            ['data-testid="booklet-page"', show.long_chart_number, escape(show.first_lot_number)],
        ),
        get(
            f"FHIR export ({show.long_sessions} sessions)",
            f"{patient}fhir/",
            ['"resourceType":"Bundle"', show.long_chart_number],
        ),
        # The privacy officer's look at the most-viewed patient (every run views it).
        get(
            "audit search, one patient",
            "/audit/?" + urlencode({"patient": show.long_chart_number}),
            ['data-testid="access-rows"', show.long_chart_number],
            **{"as": "privacy"},
        ),
        get("session list", "/sessions/", ["<th>Practitioner</th>", '<a href="/sessions/']),
        get(
            "console: compound list",
            "/admin/treatments/compound/",
            ['id="changelist"', compound],
            **{"as": "console"},
        ),
        get(
            "console: compound history",
            f"/admin/treatments/compound/{show.compound_id}/history/",
            [f"Change history: {compound}"],
            **{"as": "console"},
        ),
        {"name": "save a 14-zone draft", "kind": "save", "status": 302, "location": written}
        | {"target": SAVE},
        # Held to a time on a quiet server (issue 24): one signature at a time.
        {"name": "sign it (PDF drawn, one client)", "kind": "sign", "status": 302}
        | {"location": written, "target": None, "alone": True},
    ]


# --- The run ------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    path: str
    requests: int
    failed: int
    failures: list[str]
    median_ms: float
    p95_ms: float
    per_second: float
    baseline_p95_ms: float  # the baseline's, just before and after this page
    median_ratio: float
    ratio: float
    target: str
    passed: bool


@dataclass
class Report:
    rows: list[Row]
    baseline: Row
    workers_mb: list[float]
    table: str

    @property
    def failed(self) -> int:
        return sum(row.failed for row in self.rows) + self.baseline.failed


def p95(samples: list[float]) -> float:
    """Nearest rank: the smallest sample with at least 95% of them at or below it."""
    ordered = sorted(samples)
    return ordered[max(-(-len(ordered) * 95 // 100) - 1, 0)] if ordered else 0.0


def run(
    show,
    *,
    clients: int,
    seconds: float,
    env: dict,
    out_dir: Path,
    require_2fa: bool = True,
    warm_up: bool = True,
) -> Report:
    """Start gunicorn on the database Django is connected to, drive every page from the
    client process, stop gunicorn; the report, also written to out_dir/latest.md.
    Without `warm_up`, each client's first request of a page is timed too (quicker)."""
    import psutil

    from tests.bench.urls import BASELINE_MARKER, BASELINE_PATH
    from tests.factories import TEST_PASSWORD
    from tests.live.server import free_port, same_clock, start_gunicorn

    out_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    accounts = prepare_accounts(clients, require_2fa)
    driven = pages(show)
    baseline = {"name": "baseline", "kind": "get", "path": BASELINE_PATH, "status": 200}
    plan = {
        "password": TEST_PASSWORD,
        "accounts": accounts,
        "pages": driven,
        "baseline": baseline | {"markers": [BASELINE_MARKER]},
        "seconds": seconds,
        "baseline_seconds": seconds / 3,
        "warm_up": warm_up,
    }
    env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "tests.bench.settings",
        "WEB_CONCURRENCY": str(WORKERS),
        "REQUIRE_2FA": "true" if require_2fa else "false",
    }
    port = free_port()
    log = out_dir / "gunicorn.log"
    server = start_gunicorn(port, log, env)
    print(f"gunicorn on 127.0.0.1:{port} ({WORKERS} workers; log {log}), {clients} clients")
    print(f"set-up took {time.perf_counter() - began:.1f} s", flush=True)
    plan_file, results_file = out_dir / "plan.json", out_dir / "results.json"
    plan_file.write_text(json.dumps(plan | {"port": port}))
    results_file.unlink(missing_ok=True)
    try:
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "tests.bench.load", str(plan_file), str(results_file)],
            cwd=BASE_DIR,
            env=same_clock(None),
            check=True,
            timeout=len(driven) * (seconds * 4 / 3) + 600,
        )
        workers = psutil.Process(server.pid).children()
        workers_mb = [worker.memory_info().rss / 2**20 for worker in workers]
    finally:
        server.terminate()
        server.wait(timeout=30)
        plan_file.unlink()  # it holds the clients' authenticator keys
    results = json.loads(results_file.read_text())
    return _report(results, driven, plan["baseline"], workers_mb, out_dir)


def _report(results, driven, baseline_page, workers_mb, out_dir) -> Report:
    from treatments.models import TreatmentSession

    slices = results["baseline"]  # one before each page, one after the last
    base = _row(baseline_page, _pooled(slices), None)
    rows = []
    for n, (page, result) in enumerate(zip(driven, results["pages"], strict=True)):
        if page["kind"] == "sign":
            # A sign answers with a redirect either way: signed is what the database says.
            said = result["signed"]
            stored = TreatmentSession.objects.filter(
                pk__in=said, status=TreatmentSession.Status.SIGNED
            ).count()
            if stored != len(said):
                result["failed"] += len(said) - stored
                result["failures"].append(f"{len(said) - stored} answered but not signed")
        # Against the baseline measured just before and just after the page: both under
        # the same load from the machine's other work as the page itself.
        rows.append(_row(page, result, _row(baseline_page, _pooled(slices[n : n + 2]), None)))
    table = _table(rows, base, workers_mb)
    (out_dir / "latest.md").write_text(table)
    return Report(rows, base, workers_mb, table)


def _pooled(slices: list[dict]) -> dict:
    return {
        "latencies_ms": [ms for part in slices for ms in part["latencies_ms"]],
        "failed": sum(part["failed"] for part in slices),
        "failures": [f for part in slices for f in part["failures"]][:5],
        "seconds": sum(part["seconds"] for part in slices),
    }


def _row(page: dict, result: dict, baseline: "Row | None") -> Row:
    samples = result["latencies_ms"]
    median = statistics.median(samples) if samples else 0.0
    high = p95(samples)
    ratio = high / baseline.p95_ms if baseline and baseline.p95_ms else 1.0
    target = page.get("target")
    if baseline is None:
        shown, passed = "", True
    elif page.get("kind") == "sign":
        shown, passed = f"median < {SIGN_MEDIAN_MS} ms", median < SIGN_MEDIAN_MS
    elif page.get("whole_file_ms"):
        limit = page["whole_file_ms"]
        shown, passed = f"p95 < {limit / 1000:g} s", high < limit
    else:
        shown, passed = f"≤ {target:g}×", ratio <= target
    return Row(
        name=page["name"],
        path=page.get("path") or ("POST sessions/new/" if page["kind"] == "save" else "POST sign/"),
        requests=len(samples) + result["failed"],
        failed=result["failed"],
        failures=result["failures"],
        median_ms=median,
        p95_ms=high,
        per_second=len(samples) / result["seconds"] if result["seconds"] else 0.0,
        baseline_p95_ms=baseline.p95_ms if baseline else high,
        median_ratio=median / baseline.median_ms if baseline and baseline.median_ms else 1.0,
        ratio=ratio,
        target=shown,
        passed=passed and result["failed"] == 0 and bool(samples),
    )


def _table(rows: list[Row], base: Row, workers_mb: list[float]) -> str:
    lines = [
        "| page | requests | failed | median ms | p95 ms | req/s | baseline p95 ms "
        "| p95 ÷ baseline | (median ÷ baseline) | target | |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
        f"| baseline (`{base.path}`), whole run | {base.requests} | {base.failed} "
        f"| {base.median_ms:.1f} | {base.p95_ms:.1f} | {base.per_second:.1f} | | | | | |",
    ]
    for row in rows:
        lines.append(
            f"| {row.name} | {row.requests} | {row.failed} | {row.median_ms:.1f} "
            f"| {row.p95_ms:.1f} | {row.per_second:.1f} | {row.baseline_p95_ms:.1f} "
            f"| {row.ratio:.2f} | ({row.median_ratio:.2f}) | {row.target} "
            f"| {'PASS' if row.passed else 'MISS'} |"
        )
    memory = ", ".join(f"{mb:.0f} MB" for mb in workers_mb)
    heaviest = max(workers_mb, default=0)
    # How busy the machine was: the ratios hold under load, the milliseconds do not.
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    lines.append("")
    lines.append(
        f"Load average at the end (1, 5, 15 min, `uptime`): {load} on {os.cpu_count()} cores"
    )
    verdict = "PASS" if workers_mb and heaviest < WORKER_MB else "MISS"
    lines.append("")
    lines.append(
        f"gunicorn workers' resident memory after the run: {memory} "
        f"(target: each under {WORKER_MB} MB: {verdict})"
    )
    failures = [(row.name, f) for row in [base, *rows] for f in row.failures]
    if failures:
        lines.append("")
        lines.append("Failed requests (the first few of each page):")
        lines += [f"- {name}: {failure}" for name, failure in failures]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10, help="per page")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args(argv)
    if args.patients < 30 or args.clients < 1 or args.seconds <= 0:
        parser.error("at least 30 patients and 1 client, and a duration above 0")
    require_2fa = os.environ.get("REQUIRE_2FA", "true").lower() in ("1", "true", "yes", "on")
    show = setup_bench_database(args.patients)
    print(
        f"{show.patients:,} demo patients; the long-history patient has "
        f"{show.long_sessions} signed sessions",
        flush=True,
    )
    report = run(
        show,
        clients=args.clients,
        seconds=args.seconds,
        env=dict(os.environ),
        out_dir=BENCH_DIR,
        require_2fa=require_2fa,
    )
    print()
    print(report.table)
    print(f"(written to {BENCH_DIR / 'latest.md'})")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
