"""Faults and load against gunicorn, the way `make run` serves: `make soak`.

    .venv/bin/python -m tests.soak.soak [--practitioners 8] [--seconds 60]
        [--crawlers 32] [--crawl-seconds 30] [--pages 400] [--outage 5]
        [--pgroot var/soak/postgres]

Not a test: it prints figures, and exits with status 1 when a check fails. It runs its own
PostgreSQL cluster (--pgroot, created on first run; it is crashed on purpose, so never the
development one) and its own gunicorn (clinic/gunicorn.conf.py) on a free port, with
REQUIRE_2FA on: every client signs in through the pages with a password and a TOTP code.

1. Fault: one practitioner saves sessions (the form kept open, Save clicked again and
   again) and a prober reads /healthz and a page while PostgreSQL is crashed (pg_ctl stop
   -m immediate), left down --outage seconds, started again. Checks: answers during the
   outage are 503 pages with the security headers and no traceback; the same gunicorn (no
   worker replaced) answers again, and how long after PostgreSQL is back; every session
   stored is whole (all its injections and lots) and every save acknowledged with a
   redirect is stored.
2. Writes: --practitioners people for --seconds, each in turn creating a session for their
   own patient and editing one draft they all share. Checks: no 5xx; every acknowledged
   write is in the database; the shared draft's version rose once per acknowledged edit
   (no silent overwrite); the others got the conflict message.
3. Crawl: every page a practitioner reaches by following links from the dashboard (at
   most --pages), then
   --crawlers clients reading them at random for --crawl-seconds. Check: no 5xx.

tests/soak/test_soak_runs.py runs it at a tiny size in `make test`, so it cannot rot.
"""

import argparse
import os
import random
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))

from tests.live.browser import SECURITY_HEADERS, Answer, Browser, Figures, links  # noqa: E402
from tests.live.people import Person, make_person  # noqa: E402
from tests.live.server import free_port, start_gunicorn, workers_booted  # noqa: E402

WORKERS = int(os.environ.get("WEB_CONCURRENCY") or 2)  # as clinic/gunicorn.conf.py counts
CONFLICT = "Someone else saved this session"
SESSION_URL = re.compile(r"^/sessions/(\d+)/$")


class Checks:
    def __init__(self):
        self.failed: list[str] = []

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.failed.append(what)
            print(f"  FAILED: {what}")


# --- Set-up -------------------------------------------------------------------------------


def prepare(pgroot: Path):
    """Start (or create) the soak cluster, point this process and gunicorn at it, migrate."""
    for name in ("DATABASE_URL", "MIGRATION_DATABASE_URL"):
        os.environ.pop(name, None)  # the cluster below, never another server
    os.environ["MESOCHART_PGROOT"] = str(pgroot)
    os.environ["REQUIRE_2FA"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
    from operations import devdb

    cluster = devdb.Cluster(pgroot)
    devdb.start(cluster)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    # Only when there is something to apply: a migrate with nothing to do still
    # reinstalls every trigger and grant, seconds that `make test` would pay every time.
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0)
    return cluster


def gunicorn_error_is_secured(port: int) -> bool:
    """gunicorn answers a malformed request line itself: with the security headers too?"""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"NOT A REQUEST\r\n\r\n")
        head = raw.recv(65536).decode("latin-1").partition("\r\n\r\n")[0].lower()
    return head.startswith("http/1.1 400") and all(
        f"\r\n{name.lower()}:" in head for name in SECURITY_HEADERS
    )


# --- Writing sessions through the pages ------------------------------------------------------


def save_new_session(tab: Browser, person: Person, note: str) -> tuple[Answer, bool]:
    """Open the new-session form, post it; (the answer, whether the post was sent)."""
    path = f"/patients/{person.patient_id}/sessions/new/"
    page = tab.get(path)
    if page.status != 200:
        return page, False
    return tab.post(path, {**person.form, "notes": note}, page.csrf_token()), True


def edit_session(tab: Browser, person: Person, session_id: int, note: str):
    """Open the draft's form, post it with the version read; (answer, version read)."""
    path = f"/sessions/{session_id}/edit/"
    page = tab.get(path)
    if page.status != 200:
        return page, None
    version = int(re.search(r'name="version" value="(\d+)"', page.body).group(1))
    form = {**person.form, "notes": note, "version": version}
    return tab.post(path, form, page.csrf_token()), version


def created_id(answer: Answer) -> int | None:
    found = SESSION_URL.match(answer.location)
    return int(found.group(1)) if answer.status == 302 and found else None


def incomplete_sessions(notes: list[str]) -> tuple[int, list[str]]:
    """Of the sessions stored with these notes: how many, and which lack an injection or
    a lot (a save cut in the middle)."""
    from django.db.models import Count

    from treatments.models import TreatmentSession

    stored = TreatmentSession.objects.filter(notes__in=notes).annotate(
        zones=Count("injections", distinct=True), lots=Count("injections__lots")
    )
    partial = [s.notes for s in stored if s.zones != 2 or s.lots != 4]
    return len(stored), partial


# --- 1. PostgreSQL crashed under load -----------------------------------------------------------


@dataclass
class Timeline:
    events: list[tuple[float, str, int]] = field(default_factory=list)  # (when, what, status)

    def first_after(self, moment: float, what: str, status: int) -> float | None:
        times = [t for t, w, s in self.events if t > moment and w == what and s == status]
        return min(times) - moment if times else None

    def between(self, start: float, end: float) -> dict[int, int]:
        counts: dict[int, int] = {}
        for t, _, s in self.events:
            if start < t < end:
                counts[s] = counts.get(s, 0) + 1
        return counts


def fault_phase(port, cluster, person, outage: float, run: str, checks: Checks) -> None:
    from django.db import connections

    from operations import devdb

    print(f"\n1. PostgreSQL crashed for {outage:g} s under load")
    figures = Figures()
    signed_in = person.browser(port)
    writer, prober = signed_in.copy(figures), signed_in.copy(figures)
    timeline, stop = Timeline(), threading.Event()
    posted: list[str] = []
    acked: list[str] = []

    def write():
        # Like a practitioner who keeps the form open and clicks Save again and again: the
        # form is read once (again only if its token is refused), every save is posted.
        path, token, n = f"/patients/{person.patient_id}/sessions/new/", None, 0
        while not stop.is_set():
            if token is None:
                page = writer.get(path)
                token = page.csrf_token() if page.status == 200 else None
                if token is None:
                    time.sleep(0.05)
                    continue
            n += 1
            note = f"soak {run} fault {n}"
            answer = writer.post(path, {**person.form, "notes": note}, token)
            posted.append(note)
            if created_id(answer):
                acked.append(note)
            elif answer.status == 403:
                token = None
            timeline.events.append((time.monotonic(), "save", answer.status))
            time.sleep(0.05)

    def probe():
        while not stop.is_set():
            for path in ("/healthz", "/patients/"):
                timeline.events.append((time.monotonic(), path, prober.get(path).status))
            time.sleep(0.05)

    threads = [threading.Thread(target=f, daemon=True) for f in (write, probe)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        crashed = time.monotonic()
        devdb.crash(cluster)
        time.sleep(outage)
        restarting = time.monotonic()
        devdb.start(cluster)
        back = time.monotonic()
        deadline = back + 60
        while time.monotonic() < deadline and not all(
            timeline.first_after(back, what, status) is not None
            for what, status in (("/healthz", 200), ("/patients/", 200), ("save", 302))
        ):
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    figures.stop()
    connections.close_all()  # this process's connection died with the server

    during = timeline.between(crashed, back)
    shown = ", ".join(f"{s or 'none'}: {n}" for s, n in sorted(during.items()))
    print(f"  answers from the crash until PostgreSQL was back: {sum(during.values())} ({shown})")
    print(f"  PostgreSQL start (crash recovery) took {back - restarting:.2f} s")
    recovered = {}
    for label, what, status in (
        ("/healthz 200", "/healthz", 200),
        ("a page 200", "/patients/", 200),
        ("a session saved", "save", 302),
    ):
        recovered[label] = timeline.first_after(back, what, status)
        shown = "never" if recovered[label] is None else f"{recovered[label]:.2f} s"
        print(f"  recovery after PostgreSQL accepted connections again: {label} in {shown}")
    stored, partial = incomplete_sessions(posted)
    lost = set(acked) - set(stored_notes(acked))
    print(
        f"  saves posted {len(posted)}, acknowledged {len(acked)}, stored {stored}, "
        f"incomplete {len(partial)}, acknowledged but lost {len(lost)}"
    )
    print(f"  all requests: {figures.summary()}")
    checks.expect(during.get(503, 0) > 0, "no 503 while PostgreSQL was down")
    checks.expect(
        set(figures.statuses) <= {200, 302, 503},
        f"answers other than pages, redirects and 503: "
        f"{(figures.unexpected + figures.server_errors)[:5]}",
    )
    checks.expect(all(v is not None for v in recovered.values()), "did not recover in 60 s")
    checks.expect(not partial, f"sessions stored in part: {partial[:5]}")
    checks.expect(not lost, f"acknowledged saves lost: {sorted(lost)[:5]}")
    checks.expect(not figures.unsecured, f"answers without headers: {figures.unsecured[:5]}")
    checks.expect(not figures.tracebacks, f"tracebacks shown: {figures.tracebacks[:5]}")


def stored_notes(notes: list[str]) -> list[str]:
    from treatments.models import TreatmentSession

    return list(TreatmentSession.objects.filter(notes__in=notes).values_list("notes", flat=True))


# --- 2. Practitioners saving at once ------------------------------------------------------------


def write_phase(port, people: list[Person], seconds: float, run: str, checks: Checks):
    from treatments.models import TreatmentSession

    print(f"\n2. {len(people)} practitioners saving sessions for {seconds:g} s")
    tabs = [person.browser(port) for person in people]
    first = people[0]
    answer, _ = save_new_session(tabs[0], first, f"soak {run} shared draft")
    shared = created_id(answer)
    assert shared, f"the shared draft was not created: HTTP {answer.status}"
    start_version = TreatmentSession.objects.get(pk=shared).version
    figures = Figures()  # from here: sign-ins and the shared draft are not counted
    for tab in tabs:
        tab.figures = figures
    created: list[tuple[int, str]] = []
    edits: list[tuple[int, str]] = []  # (version the editor read, notes)
    conflicts: list[str] = []
    refused: list[str] = []
    deadline = time.monotonic() + seconds

    def work(tab: Browser, person: Person):
        n = 0
        # A save and an edit at least, however slow the machine: a short run (the suite's
        # one second) under load used to end before its first edit.
        while n < 2 or time.monotonic() < deadline:
            n += 1
            note = f"soak {run} {person.username} {n}"
            if n % 2:
                answer, _ = save_new_session(tab, person, note)
                if (session_id := created_id(answer)) is not None:
                    created.append((session_id, note))
                elif answer.status == 200:
                    refused.append(note)
            else:
                answer, version = edit_session(tab, first, shared, note)
                if answer.status == 302:
                    edits.append((version, note))
                elif answer.status == 200 and CONFLICT in answer.body:
                    conflicts.append(note)
                elif answer.status == 200:
                    refused.append(note)

    threads = [
        threading.Thread(target=work, args=pair, daemon=True)
        for pair in zip(tabs, people, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures.stop()

    stored = dict(
        TreatmentSession.objects.filter(pk__in=[pk for pk, _ in created]).values_list("pk", "notes")
    )
    lost_creates = [note for pk, note in created if stored.get(pk) != note]
    _, partial = incomplete_sessions([note for _, note in created])
    draft = TreatmentSession.objects.get(pk=shared)
    in_history = set(draft.events.values_list("notes", flat=True))
    lost_edits = [note for _, note in edits if note not in in_history]
    versions_read = [version for version, _ in edits]
    overwritten = len(versions_read) - len(set(versions_read))
    print(f"  {figures.summary()}")
    print(
        f"  sessions created {len(created)}, edits of the shared draft {len(edits)}, "
        f"conflicts {len(conflicts)}, refused by validation {len(refused)}"
    )
    print(
        f"  acknowledged writes lost: {len(lost_creates) + len(lost_edits)}; stored in part: "
        f"{len(partial)}; shared draft version {start_version} -> {draft.version} "
        f"after {len(edits)} acknowledged edits"
    )
    checks.expect(figures.status_5xx == 0, f"5xx answers: {figures.server_errors[:5]}")
    checks.expect(figures.count(0) == 0, "requests without an answer")
    checks.expect(not lost_creates and not lost_edits, "acknowledged writes lost")
    checks.expect(not partial, f"sessions stored in part: {partial[:5]}")
    checks.expect(overwritten == 0, f"{overwritten} edits acknowledged from a stale version")
    checks.expect(
        draft.version == start_version + len(edits), "the draft's version does not count the edits"
    )
    checks.expect(not refused, f"valid saves refused: {refused[:5]}")
    checks.expect(created and edits, "no session created or edited")
    return tabs


# --- 3. Clients crawling every page ---------------------------------------------------------


def crawl_phase(port, tabs: list[Browser], crawlers: int, seconds: float, most: int, checks):
    print(f"\n3. {crawlers} clients crawling every page for {seconds:g} s")
    spider_figures = Figures()
    spider = tabs[0].copy(spider_figures)
    base = f"http://127.0.0.1:{port}"
    pages, queue = [], ["/"]
    seen = set(queue)
    while queue and len(pages) < most:
        path = queue.pop(0)
        answer = spider.get(path)
        pages.append(path)
        if answer.status == 200 and "html" in answer.headers.get("content-type", ""):
            for found in sorted(links(answer, base + path) - seen):
                seen.add(found)
                queue.append(found)
    spider_figures.stop()
    print(f"  {len(pages)} pages found by following links: {spider_figures.summary()}")

    figures = Figures()
    deadline = time.monotonic() + seconds

    def crawl(tab: Browser, seed: int):
        order = random.Random(seed)  # noqa: S311  (an order of pages, not a secret)
        while time.monotonic() < deadline:
            tab.get(order.choice(pages))

    threads = [
        threading.Thread(target=crawl, args=(tabs[i % len(tabs)].copy(figures), i), daemon=True)
        for i in range(crawlers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures.stop()
    print(f"  {figures.summary()}")
    both = figures.server_errors + spider_figures.server_errors
    checks.expect(figures.status_5xx + spider_figures.status_5xx == 0, f"5xx answers: {both[:5]}")
    checks.expect(figures.count(0) == 0, "requests without an answer")
    checks.expect(not figures.tracebacks, "tracebacks shown")


# --- Main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--practitioners", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60, help="of the write phase")
    parser.add_argument("--crawlers", type=int, default=32)
    parser.add_argument("--crawl-seconds", type=float, default=30)
    parser.add_argument("--pages", type=int, default=400, help="most pages the crawl reads")
    parser.add_argument("--outage", type=float, default=5, help="seconds PostgreSQL stays down")
    parser.add_argument("--pgroot", type=Path, default=BASE_DIR / "var" / "soak" / "postgres")
    args = parser.parse_args(argv)
    if min(args.practitioners, args.crawlers) < 1 or min(args.seconds, args.outage) <= 0:
        parser.error("counts must be at least 1 and durations above 0")

    began = time.perf_counter()
    pgroot = args.pgroot.resolve()
    cluster = prepare(pgroot)
    from operations import devdb

    run = time.strftime("%Y%m%d-%H%M%S")
    people = [make_person(f"soak-{n}") for n in range(1, args.practitioners + 1)]
    fault_person = make_person("soak-fault")
    log = pgroot.parent / "gunicorn.log"
    port = free_port()
    server = start_gunicorn(port, log)
    print(f"gunicorn on 127.0.0.1:{port} (log: {log}), PostgreSQL cluster {pgroot}")
    print(
        f"set-up (cluster, migrate, {len(people) + 1} practitioners, gunicorn) took "
        f"{time.perf_counter() - began:.1f} s"
    )
    checks = Checks()
    secured = gunicorn_error_is_secured(port)
    print(f"gunicorn's own 400 (a malformed request) carries the security headers: {secured}")
    checks.expect(secured, "gunicorn's own error answer lacks the security headers")
    try:
        fault_phase(port, cluster, fault_person, args.outage, run, checks)
        tabs = write_phase(port, people, args.seconds, run, checks)
        crawl_phase(port, tabs, args.crawlers, args.crawl_seconds, args.pages, checks)
        checks.expect(server.poll() is None, "gunicorn stopped")
        replaced = workers_booted(log) - WORKERS
        print(f"\ngunicorn ran throughout (pid {server.pid}), workers replaced: {replaced}")
        checks.expect(replaced == 0, f"{replaced} workers were replaced")
    finally:
        server.terminate()
        server.wait(timeout=30)
        devdb.stop(cluster)
    if checks.failed:
        print(f"\n{len(checks.failed)} checks FAILED")
        return 1
    print("\nAll checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
