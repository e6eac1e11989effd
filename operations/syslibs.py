"""The system parts MesoChart needs besides its Python packages, checked the way they load.

    python3 operations/syslibs.py pango [LIBRARY ...]
    python3 operations/syslibs.py chromium [PATH]
    python3 operations/syslibs.py gettext

Exit 0 when everything is there; otherwise print what is missing and the one command
that installs it (Debian/Ubuntu package names) and exit 1. The Makefile runs it with
the system Python before the virtualenv exists, so it uses the standard library only
and must stay importable without Django.

Pango is looked for as WeasyPrint loads it: the dynamic loader opens each shared
library by its soname (``ctypes.CDLL``, which is ``dlopen``). Not ``ldconfig -p``
(in /sbin, not on an ordinary user's PATH) and not ``ctypes.util.find_library``
(which runs ldconfig too).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys

# The libraries weasyprint/text/ffi.py opens, by their Linux sonames.
PANGO_LIBRARIES = (
    "libgobject-2.0.so.0",
    "libpango-1.0.so.0",
    "libharfbuzz.so.0",
    "libfontconfig.so.1",
    "libpangoft2-1.0.so.0",
)
# Debian/Ubuntu packages: the two Pango ones bring GObject, HarfBuzz and Fontconfig.
PANGO_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0")
CHROMIUM_PACKAGE = "chromium"
# Django's compilemessages runs msgfmt, makemessages xgettext and msgmerge: all in gettext.
GETTEXT_PROGRAMS = ("msgfmt", "xgettext", "msgmerge")
GETTEXT_PACKAGE = "gettext"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def missing_libraries(names: tuple[str, ...] | list[str]) -> list[str]:
    """The shared libraries among names that the dynamic loader cannot open."""
    missing = []
    for name in names:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def pango_problem(names: tuple[str, ...] | list[str] = PANGO_LIBRARIES) -> str | None:
    missing = missing_libraries(names)
    if not missing:
        return None
    return (
        f"PDF summaries need Pango; the dynamic loader cannot open {', '.join(missing)}.\n"
        f"Install it once: sudo apt-get install {' '.join(PANGO_PACKAGES)}"
    )


def chromium_problem(path: str = DEFAULT_CHROMIUM) -> str | None:
    """None when path names a Chromium that starts (its --version answers)."""
    found = shutil.which(path)
    if found is None:
        return (
            f"The browser tests need Chromium, and there is none at {path}.\n"
            f"Install it once: sudo apt-get install {CHROMIUM_PACKAGE}"
            " (or point CHROMIUM=/path/to/chromium at another build)"
        )
    try:
        result = subprocess.run(  # noqa: S603  # nosec B603
            [found, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Chromium at {found} does not start: {exc}"
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        return f"Chromium at {found} does not start: {detail[-1] if detail else result.returncode}"
    return None


def gettext_problem(programs: tuple[str, ...] | list[str] = GETTEXT_PROGRAMS) -> str | None:
    """None when the gettext programs that compile and extract the catalogues are on PATH."""
    missing = [name for name in programs if shutil.which(name) is None]
    if not missing:
        return None
    return (
        f"The French and English message catalogues are compiled with gettext; "
        f"{', '.join(missing)} is not on PATH.\n"
        f"Install it once: sudo apt-get install {GETTEXT_PACKAGE}"
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"pango", "chromium", "gettext"}:
        print("usage: syslibs.py pango [LIBRARY ...] | chromium [PATH] | gettext", file=sys.stderr)
        return 2
    if argv[0] == "pango":
        problem = pango_problem(argv[1:] or PANGO_LIBRARIES)
    elif argv[0] == "gettext":
        problem = gettext_problem()
    else:
        problem = chromium_problem(
            argv[1] if len(argv) > 1 else os.environ.get("CHROMIUM", DEFAULT_CHROMIUM)
        )
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
