# Two commands: `make lab` opens the workbook, `make test` runs the whole test suite.
# Both create .venv and install the workbook into it the first time (and when pyproject changes).

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup lab test test-fast lint stop clean

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

test: setup
	$(BIN)/ruff check helpers tests
	$(BIN)/python -m pytest tests notebooks $(NBVAL)

test-fast: setup
	$(BIN)/python -m pytest tests -m "not slow and not browser"

stop:
	@if test -x $(BIN)/python; then $(BIN)/python -m helpers stop; else echo "Nothing to stop (no .venv)."; fi

clean: stop
	rm -rf $(VENV) .workbook tests/artifacts
