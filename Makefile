# Needs only Python 3.11 and make. Without DATABASE_URL / REDIS_URL, PostgreSQL and Redis run from wheels
# under var/ (see poverty_relief/devstack.py); with them set, those servers are used instead.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# -m needs the installed dependencies (the package's __init__ imports Celery); the install step and the
# commands that work without them run the file as a script, and -P keeps poverty_relief/ (whose
# logging.py and celery.py would shadow the real modules) off sys.path.
DEVSTACK := $(PY) -m poverty_relief.devstack
DEVSTACK_SCRIPT := -P poverty_relief/devstack.py

# Stamps: the install runs again only when pyproject.toml changes (or the venv is new).
RUN_DEPS := $(VENV)/.installed-run
TEST_DEPS := $(VENV)/.installed-test
LOAD_DEPS := $(VENV)/.installed-load

.PHONY: run test lint load load-areas env stop status clean

run: $(RUN_DEPS)
	$(DEVSTACK) run

test: $(TEST_DEPS)
	$(DEVSTACK) test $(PYTEST_ARGS)

lint: $(TEST_DEPS)
	$(PY) -m ruff check .

# Not part of `make test`: 50 clerks against gunicorn while a roster imports, in a scratch database (see
# load/run.py and docs/operations.md, "Load test"). LOAD_ARGS passes options, e.g. LOAD_ARGS="--users 10".
load: $(LOAD_DEPS)
	$(PY) load/run.py $(LOAD_ARGS)

load-areas: $(RUN_DEPS)
	$(DEVSTACK) manage load_areas

env: $(RUN_DEPS)
	@$(DEVSTACK) env

stop:
	@$(if $(wildcard $(PY)),$(PY),$(PYTHON)) $(DEVSTACK_SCRIPT) stop

status:
	@$(if $(wildcard $(PY)),$(PY),$(PYTHON)) $(DEVSTACK_SCRIPT) status || true

# Refuses while `make run` or an embedded server is up: deleting var/ under a live PostgreSQL loses data
# and leaves the server running. `make stop` first.
clean:
	@if ! $(if $(wildcard $(PY)),$(PY),$(PYTHON)) $(DEVSTACK_SCRIPT) status >/dev/null; then \
		echo "make clean: something still runs from var/ (see 'make status'); run 'make stop' first" >&2; \
		exit 1; \
	fi
	rm -rf var

$(PY):
	@test -n "$(PYTHON)" || { echo "make: no python3.11 or python3 on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(RUN_DEPS): pyproject.toml | $(PY)
	$(PY) $(DEVSTACK_SCRIPT) install local
	@touch $@

$(TEST_DEPS): pyproject.toml | $(PY)
	$(PY) $(DEVSTACK_SCRIPT) install local dev
	@touch $@ $(RUN_DEPS)

$(LOAD_DEPS): pyproject.toml | $(PY)
	$(PY) $(DEVSTACK_SCRIPT) install local load
	@touch $@ $(RUN_DEPS)
