"""gunicorn as `make run` starts it (clinic/gunicorn.conf.py), on a free loopback port:
for the soak script and the benchmark."""

import os
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from django.db import connection

from tests.live.browser import Browser

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def same_clock(env: dict | None) -> dict | None:
    """Under faketime ("@date time": each process's clock starts at that moment when the
    process starts), a server started minutes into the run would lag this process's clock
    by those minutes, and the second-factor codes computed here would be refused there.
    Start the child's clock at this process's present instead."""
    base = dict(os.environ if env is None else env)
    if not base.get("FAKETIME", "").startswith("@"):
        return env
    base["FAKETIME"] = "@" + datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    return base


def start_gunicorn(port: int, log: Path, env: dict | None = None) -> subprocess.Popen:
    """Started, and answering /healthz; `env` replaces this process's environment."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--config",
        str(BASE_DIR / "clinic" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
    ]
    with log.open("w") as out:
        server = subprocess.Popen(  # noqa: S603
            command, cwd=BASE_DIR, stdout=out, stderr=subprocess.STDOUT, env=same_clock(env)
        )
    deadline = time.monotonic() + 30
    while Browser(port).get("/healthz").status != 200:
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit(f"gunicorn did not start; see {log}")
        time.sleep(0.2)
    return server


def workers_booted(log: Path) -> int:
    return log.read_text(errors="replace").count("Booting worker")


def database_url() -> str:
    """The URL of the database Django is connected to, for gunicorn."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    host = s["HOST"] or s["OPTIONS"].get("host", "")
    if host.startswith("/"):  # a Unix socket's folder
        return f"postgresql://{auth}@/{s['NAME']}?host={host}"
    return f"postgresql://{auth}@{host}:{s['PORT'] or 5432}/{s['NAME']}"
