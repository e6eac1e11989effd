"""The benchmark's clients: a process of its own, apart from gunicorn and the harness.

    .venv/bin/python -m tests.bench.load PLAN.json RESULTS.json

tests/bench/bench.py writes the plan (port, accounts, pages with the marker each answer
must carry) and reads the results. Every client is a thread with its own keep-alive
connection and cookies (tests/live/browser.py), signed in through the pages like a person
(password, then the authenticator's code when asked). All clients drive one page at a
time; before each page they drive the baseline page for a third as long, so the baseline
is measured throughout the run. No Django here: only HTTP.
"""

import json
import re
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))

from tests.live.browser import Answer, Browser, sign_in  # noqa: E402
from tests.live.people import totp_code  # noqa: E402

SESSION_URL = re.compile(r"^/sessions/(\d+)/$")
# Failed requests kept per page to show what went wrong.
FAILURES_SHOWN = 5


def check(page: dict, answer: Answer) -> str | None:
    """Why this answer is not the page asked for, or None."""
    if answer.status != page["status"]:
        return f"HTTP {answer.status}: {answer.body[:120]!r}"
    if page["status"] == 302:
        if not re.fullmatch(page["location"], answer.location):
            return f"redirected to {answer.location!r}"
        return None
    missing = [marker for marker in page["markers"] if marker not in answer.body]
    if missing:
        return f"without {missing[0]!r}"
    return None


class Client:
    """One person at one workstation: a practitioner's browser, a console browser and
    the privacy officer's."""

    def __init__(self, port: int, account: dict, password: str):
        self.account = account
        self.tabs = {}
        for role in ("practitioner", "console", "privacy"):
            who = account[role]
            tab = Browser(port, timeout=120)
            code = totp_code(bytes.fromhex(who["key"])) if who["second_step"] else None
            sign_in(tab, who["username"], password, code)
            self.tabs[role] = tab
        self.token = None
        self.drafts: list[int] = []  # made by the save page, signed by the sign page
        self.saves = 0

    def request(self, page: dict) -> Answer:
        tab = self.tabs[page.get("as", "practitioner")]
        if page["kind"] == "get":
            return tab.get(page["path"])
        path = f"/patients/{self.account['patient_id']}/sessions/new/"
        if self.token is None:
            self.token = tab.get(path).csrf_token()  # the form, as opened in the browser
        if page["kind"] == "save":
            self.saves += 1
            form = {**self.account["form"], "notes": f"bench save {self.saves}"}
            answer = tab.post(path, form, self.token)
            if found := SESSION_URL.match(answer.location):
                self.drafts.append(int(found.group(1)))
            return answer
        if page["kind"] == "sign":
            return tab.post(f"/sessions/{self.drafts.pop(0)}/sign/", {}, self.token)
        raise ValueError(page["kind"])

    def can(self, page: dict) -> bool:
        return page["kind"] != "sign" or bool(self.drafts)


def drive(clients: list[Client], page: dict, seconds: float, warm_up: bool = True) -> dict:
    """Every client on this page for `seconds` (after one request each, not timed); a
    page marked `alone`, one client only: its target is a time on a quiet server."""
    if page.get("alone"):
        clients = clients[:1]
    latencies: list[float] = []
    failures: list[str] = []
    failed = 0
    signed: list[int] = []
    lock = threading.Lock()

    def one(client: Client, timed: bool) -> None:
        nonlocal failed
        session_id = client.drafts[0] if page["kind"] == "sign" else None
        try:
            answer = client.request(page)
            problem = check(page, answer)
        except Exception as exc:  # noqa: BLE001  (counted, never a silent stop)
            answer, problem = None, f"{type(exc).__name__}: {exc}"
        with lock:
            if problem is None and timed:
                latencies.append(answer.seconds * 1000)
            if problem is None and session_id is not None:
                signed.append(session_id)
            if problem is not None:
                failed += 1
                if len(failures) < FAILURES_SHOWN:
                    failures.append(problem)

    def warm(client: Client) -> None:
        # Each worker's first time through a page (imports, templates compiled) is not
        # timed; the warm-up saves make drafts too, so the sign page has one to warm up on.
        if client.can(page):
            one(client, timed=False)

    def work(client: Client) -> None:
        while time.perf_counter() < deadline and client.can(page):
            one(client, timed=True)

    for target in (warm, work) if warm_up else (work,):
        threads = [threading.Thread(target=target, args=(c,), daemon=True) for c in clients]
        started = time.perf_counter()
        deadline = started + seconds
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return {
        "name": page["name"],
        "latencies_ms": latencies,
        "failed": failed,
        "failures": failures,
        "seconds": time.perf_counter() - started,
        "signed": signed,
    }


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[0]).read_text())
    began = time.perf_counter()
    clients: list[Client] = []
    # At once, as people arrive: each sign-in hashes a password on purpose slowly.
    signing_in = [
        threading.Thread(
            target=lambda account: clients.append(Client(plan["port"], account, plan["password"])),
            args=(account,),
        )
        for account in plan["accounts"]
    ]
    for thread in signing_in:
        thread.start()
    for thread in signing_in:
        thread.join()
    if len(clients) != len(plan["accounts"]):
        raise SystemExit("a client could not sign in (see above)")
    print(f"{len(clients)} clients signed in in {time.perf_counter() - began:.1f} s", flush=True)
    results = {"pages": [], "baseline": []}
    baseline, warm = plan["baseline"], plan["warm_up"]
    for page in plan["pages"]:
        results["baseline"].append(drive(clients, baseline, plan["baseline_seconds"], warm))
        result = drive(clients, page, plan["seconds"], warm)
        results["pages"].append(result)
        done = len(result["latencies_ms"])
        print(f"  {page['name']:34} {done:5} requests, {result['failed']} failed", flush=True)
    results["baseline"].append(drive(clients, baseline, plan["baseline_seconds"], warm))
    Path(argv[1]).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
