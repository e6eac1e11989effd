"""clinic/gunicorn.conf.py counts the database connections its workers may hold against
the server's limit, and refuses a size that could end in "too many clients already"."""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def test_gunicorn_refuses_more_threads_than_the_database_can_serve():
    # 40 x 8 = 320 connections: more than the local PostgreSQL's 100 in all. It must stop
    # before serving (were it to start, the run would time out and the test fail).
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config=clinic/gunicorn.conf.py",
            "--bind=127.0.0.1:0",
        ],
        cwd=BASE_DIR,
        env={**os.environ, "WEB_CONCURRENCY": "40", "GUNICORN_THREADS": "8"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "40 workers x 8 threads may hold 320 database connections" in result.stderr
    assert "Lower WEB_CONCURRENCY or GUNICORN_THREADS" in result.stderr
