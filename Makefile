# MesoChart: `make run` serves the app, `make test` runs every check.
# Both set up everything on a fresh machine: virtualenv, packages, PostgreSQL.

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
CHROMIUM ?= /usr/bin/chromium
# The browser tests read it too (tests/e2e/conftest.py).
export CHROMIUM

.PHONY: run test stop db setup browser system-libs lint format bench backup soak lock messages catalogue

# Locked sets (see "Dependencies" in the README): `make run` installs the local set
# (production + the project-local PostgreSQL), `make test` the development set. Every
# package is pinned with its hashes; installing is skipped while the lock is unchanged.
# First the installer itself (requirements-bootstrap.txt: pip, hashed), put in by the
# pip that the machine's `python3 -m venv` bundles, whatever its version, with
# --no-deps: every set is then installed by the same pip on every machine.
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes
$(VENV)/.installer: requirements-bootstrap.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --no-deps -r requirements-bootstrap.txt
	@touch $@

$(VENV)/.runtime: $(VENV)/.installer requirements-local.txt
	$(PIP_INSTALL) -r requirements-local.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP_INSTALL) -r requirements-dev.txt
	@touch $@

# Compile the requirements*.in files into the locks (tools/lock.py), the installer's
# requirements-bootstrap.txt too, keeping the locked versions:
# `make lock UPGRADE=django` upgrades one package, `make lock UPGRADE=all` all.
# uv is installed by its pin in requirements-dev.in, so this works whatever the locks hold.
UV_PIN := $(shell sed -n 's/^\(uv==[^ ]*\).*/\1/p' requirements-dev.in)
lock: $(VENV)/.installer
	@$(VENV)/bin/uv --version 2>/dev/null | grep -qx "uv $(UV_PIN:uv==%=%)" || \
	  $(PY) -m pip install --quiet --disable-pip-version-check "$(UV_PIN)"
	@$(PY) tools/lock.py $(if $(filter all,$(UPGRADE)),--upgrade,$(foreach name,$(UPGRADE),--upgrade-package $(name)))

# The project-local PostgreSQL, unless DATABASE_URL points elsewhere.
db: $(VENV)/.runtime
ifeq ($(strip $(DATABASE_URL)),)
	@$(PY) -m operations.devdb start
else
	@echo "Using DATABASE_URL; not starting the local PostgreSQL."
endif

# Collected (and compressed) again only when a file under static/ changes.
STATIC_FILES := $(shell find static -type f)
var/static/staticfiles.json: $(STATIC_FILES) $(VENV)/.runtime
	@$(MANAGE) collectstatic --no-input -v 0

# The compiled message catalogues (French), made again when a .po file changes.
PO_FILES := $(shell find locale -name '*.po' 2>/dev/null)
MO_FILES := $(PO_FILES:.po=.mo)
%.mo: %.po $(VENV)/.runtime
	@$(MANAGE) compilemessages -v 0
messages: $(MO_FILES)
# Extract the marked strings into locale/fr_CA/LC_MESSAGES/django.po (then translate them).
catalogue: $(VENV)/.runtime
	@$(MANAGE) makemessages -l fr_CA --no-obsolete --ignore 'var/*' --ignore 'tests/*' -v 0

setup: system-libs db
	@$(MANAGE) preflight
	@$(MANAGE) migrate --no-input -v 0
	@$(MAKE) -s --no-print-directory var/static/staticfiles.json messages

run: setup
	@$(MANAGE) preflight --port $(PORT)
	@$(MANAGE) ensure_demo_user
	@$(MANAGE) ensure_demo_catalogue
	@echo "MesoChart: http://127.0.0.1:$(PORT)/  (Ctrl-C to stop; 'make stop' stops PostgreSQL)"
	@$(VENV)/bin/gunicorn --config clinic/gunicorn.conf.py --bind 127.0.0.1:$(PORT)

# WeasyPrint (PDF summaries) needs Pango, the message catalogues gettext and the browser
# tests Chromium: Debian packages.
# operations/syslibs.py looks for them as they are loaded (the dynamic loader, the browser's
# own --version), with the system Python, before the virtualenv is made. As root a
# missing one is installed with apt-get; anyone else is told the one command to run.
PANGO := libpango-1.0-0 libpangoft2-1.0-0
system-libs:
	@$(PYTHON) operations/syslibs.py pango 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Pango for PDF summaries (apt-get)..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PANGO) >/dev/null; \
	  fi; \
	  $(PYTHON) operations/syslibs.py pango; }
	@$(PYTHON) operations/syslibs.py gettext 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing gettext for the message catalogues (apt-get)..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	  fi; \
	  $(PYTHON) operations/syslibs.py gettext; }

# Playwright cannot download its own browser here: the tests drive Debian's Chromium.
browser:
	@$(PYTHON) operations/syslibs.py chromium "$(CHROMIUM)" 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && [ "$(CHROMIUM)" = /usr/bin/chromium ]; then \
	    echo "Installing Chromium for the browser tests (apt-get)..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  fi; \
	  $(PYTHON) operations/syslibs.py chromium "$(CHROMIUM)"; }

test: $(VENV)/.dev browser setup
	$(MANAGE) makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/bandit -q -c pyproject.toml -r . -ll
	$(VENV)/bin/pytest -n 2

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/bandit -q -c pyproject.toml -r . -ll

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# One encrypted archive (database + media) under var/backups/; needs BACKUP_RECIPIENT.
# Restoring: see "Backups and restore" in the README.
backup: db
	@$(MANAGE) backup $(if $(OUTPUT),--output $(OUTPUT))

stop: $(VENV)/.runtime
	@$(PY) -m operations.devdb stop

# Benchmark (not a test): every key page against a baseline page, on gunicorn (2 workers)
# with BENCH_CLIENTS concurrent clients, BENCH_SECONDS per page, on the mesochart_bench
# database holding BENCH_PATIENTS patients (generated once per size). See BENCHMARKS.md.
BENCH_PATIENTS ?= 100000
BENCH_SECONDS ?= 10
BENCH_CLIENTS ?= 4
bench: $(VENV)/.dev setup
	$(PY) -m tests.bench.bench --patients $(BENCH_PATIENTS) --seconds $(BENCH_SECONDS) \
	  --clients $(BENCH_CLIENTS)

# Faults and load against gunicorn (not tests): PostgreSQL crashed under load, 8
# practitioners saving for 60 s, 32 clients crawling. Its own PostgreSQL cluster under
# var/soak/. Sizes: make soak SOAK_ARGS="--seconds 10 --crawlers 8" (see tests/soak/soak.py).
soak: $(VENV)/.dev system-libs var/static/staticfiles.json
	$(PY) -m tests.soak.soak $(SOAK_ARGS)
