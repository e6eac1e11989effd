# MesoChart: `make run` serves the app, `make test` runs every check.
# Both set up everything on a fresh machine: virtualenv, packages, PostgreSQL.

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test stop db setup browser system-libs lint format bench backup soak

# Installing is skipped while the requirement files are unchanged.
$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The project-local PostgreSQL, unless DATABASE_URL points elsewhere.
db: $(VENV)/.runtime
ifeq ($(strip $(DATABASE_URL)),)
	@$(PY) -m clinic.devdb start
else
	@echo "Using DATABASE_URL; not starting the local PostgreSQL."
endif

# Collected (and compressed) again only when a file under static/ changes.
STATIC_FILES := $(shell find static -type f)
var/static/staticfiles.json: $(STATIC_FILES) $(VENV)/.runtime
	@$(MANAGE) collectstatic --no-input -v 0

setup: db system-libs
	@$(MANAGE) preflight
	@$(MANAGE) migrate --no-input -v 0
	@$(MAKE) -s --no-print-directory var/static/staticfiles.json

run: setup
	@$(MANAGE) preflight --port $(PORT)
	@$(MANAGE) ensure_demo_user
	@$(MANAGE) ensure_demo_catalogue
	@echo "MesoChart: http://127.0.0.1:$(PORT)/  (Ctrl-C to stop; 'make stop' stops PostgreSQL)"
	@$(VENV)/bin/gunicorn --config clinic/gunicorn.conf.py --bind 127.0.0.1:$(PORT)

# WeasyPrint (PDF summaries) needs Pango; Debian packages, installed when missing.
PANGO := libpango-1.0-0 libpangoft2-1.0-0
system-libs:
	@ldconfig -p | grep -q libpangoft2-1.0 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Pango for PDF summaries (apt-get)..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PANGO) >/dev/null; \
	  else \
	    echo "PDF summaries need Pango: sudo apt-get install $(PANGO)"; exit 1; \
	  fi; }

# Browser tests drive Debian's Chromium; Playwright cannot download its own here.
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Chromium for the browser tests (apt-get)..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is needed for the browser tests: sudo apt-get install chromium"; exit 1; \
	  fi; }

test: $(VENV)/.dev browser setup
	$(MANAGE) makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r . -ll
	$(VENV)/bin/pytest -n 2

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r . -ll

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# One encrypted archive (database + media) under var/backups/; needs BACKUP_RECIPIENT.
# Restoring: see "Backups and restore" in the README.
backup: db
	@$(MANAGE) backup $(if $(OUTPUT),--output $(OUTPUT))

stop: $(VENV)/.runtime
	@$(PY) -m clinic.devdb stop

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
