"""The system-library checks `make run` and `make test` start with (operations/syslibs.py)."""

import os
import subprocess
import sys
from pathlib import Path

from operations import syslibs

BASE_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", syslibs.DEFAULT_CHROMIUM)


def _check(*args: str) -> subprocess.CompletedProcess:
    # As the Makefile runs it: a script, with an ordinary user's PATH (no /sbin, so no
    # ldconfig) and no virtualenv on it.
    return subprocess.run(
        [sys.executable, "operations/syslibs.py", *args],
        cwd=BASE_DIR,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pango_is_found_without_ldconfig_on_the_path():
    result = _check("pango")
    assert (result.returncode, result.stderr) == (0, "")


def test_a_missing_library_is_named_with_the_command_that_installs_it():
    result = _check("pango", "libpango-1.0.so.0", "libmesochart-absent-7.so.0")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "PDF summaries need Pango; the dynamic loader cannot open libmesochart-absent-7.so.0.",
        "Install it once: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0",
    ]


def test_every_library_weasyprint_opens_is_checked():
    assert syslibs.missing_libraries(syslibs.PANGO_LIBRARIES) == []
    assert syslibs.missing_libraries(["libmesochart-absent-7.so.0", "libpangoft2-1.0.so.0"]) == [
        "libmesochart-absent-7.so.0"
    ]


def test_chromium_is_found_and_starts():
    result = _check("chromium", CHROMIUM)
    assert (result.returncode, result.stderr) == (0, "")


def test_a_missing_chromium_is_named_with_the_command_that_installs_it(tmp_path):
    result = _check("chromium", str(tmp_path / "chromium"))
    assert result.returncode == 1
    assert f"there is none at {tmp_path / 'chromium'}" in result.stderr
    assert "Install it once: sudo apt-get install chromium" in result.stderr


def test_a_chromium_that_does_not_start_is_reported(tmp_path):
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'error while loading shared libraries' >&2\nexit 127\n")
    broken.chmod(0o755)
    result = _check("chromium", str(broken))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Chromium at {broken} does not start: error while loading shared libraries"
    )


def test_usage():
    result = _check("fonts")
    assert result.returncode == 2
    assert "usage: syslibs.py pango" in result.stderr
