# Two commands: `make lab` opens the workbook, `make test` runs the whole test suite.
# Both create .venv and install the workbook into it the first time (and when pyproject changes).
# `make test` also runs the fast suite in .venv-floors, where every direct dependency is at
# the floor pyproject.toml gives it (tools/floors.py), on the oldest Python the workbook supports.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo $$p && break; done)
PYTHON_FLOOR ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo $(PYTHON))
VENV := .venv
FLOORS := .venv-floors
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
FAST := -m "not slow and not browser"
# The tests run in 3 processes (pytest-xdist; most of a test is waiting for Redis, a worker or a
# kernel, so 3 beat 2 on 2 cores); what must not overlap shares a group (the root conftest.py).
# The 15 slowest tests are listed at the end. `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= 3
PARALLEL := -n $(TEST_WORKERS) --dist loadscope --durations=15

.PHONY: setup lab test test-fast test-floors stop clean student

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed (python3.11, 3.12 or 3.13 on PATH)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# JupyterLab's terminals get the workbook's Python first on PATH (python -m helpers task N);
# jupyter/ adds the workbook's JupyterLab settings (no news or update pop-ups).
lab: setup
	$(BIN)/python -m helpers redis start
	PATH="$(abspath $(BIN)):$$PATH" \
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(ROOT_FLAG)

$(FLOORS)/.installed: pyproject.toml tools/floors.py
	@test -n "$(PYTHON_FLOOR)" || { echo "Python 3.11 or newer is needed."; exit 1; }
	@test -x $(FLOORS)/bin/python || $(PYTHON_FLOOR) -m venv $(FLOORS)
	$(FLOORS)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS)/bin/python tools/floors.py > $(FLOORS)/constraints.txt
	$(FLOORS)/bin/python -m pip install --quiet -c $(FLOORS)/constraints.txt -e '.[test]'
	@touch $@

test: setup test-floors
	$(BIN)/ruff check helpers tests tools benchmarks conftest.py
	$(BIN)/python -m pytest tests notebooks $(NBVAL) $(PARALLEL)

test-fast: setup
	$(BIN)/python -m pytest tests $(FAST) $(PARALLEL)

# The fast suite at the dependency floors (see the top of this file).
test-floors: $(FLOORS)/.installed
	$(FLOORS)/bin/ruff check helpers tests tools benchmarks conftest.py
	$(FLOORS)/bin/python -m pytest tests $(FAST) -p no:cacheprovider $(PARALLEL)

# The student edition of every notebook (solutions removed, exercise and check outputs
# cleared) for a class: `make student`, or `make student STUDENT_DIR=path`. Git ignores student/.
STUDENT_DIR ?= student
student: setup
	$(BIN)/python -m helpers student $(STUDENT_DIR)

stop:
	@if test -x $(BIN)/python; then $(BIN)/python -m helpers stop; else echo "Nothing to stop (no .venv)."; fi

clean: stop
	rm -rf $(VENV) $(FLOORS) .workbook tests/artifacts
