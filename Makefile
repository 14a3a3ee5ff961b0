# Two commands matter: `make demo` (the whole pipeline on sample data) and
# `make test` (the test suite against a real Postgres). Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The runtime pins and the development pins (tests, `make demo`, the import check):
# a change to either file reinstalls.
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
UV_COMPILE = $(BIN)/uv pip compile --python-version 3.11 --no-header --no-annotate --quiet
export PYTHONPATH := $(CURDIR)/plugins:$(CURDIR)

.PHONY: install demo test airflow bench docs lock clean

install: $(STAMP)

# Bytecode is compiled at install: the shell may set PYTHONDONTWRITEBYTECODE,
# and without .pyc files every `import airflow` costs twice as long.
# requirements-dev.txt includes requirements.txt: one install of both.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

demo: install
	$(BIN)/python -m demo.run_pipeline

test: install
	$(BIN)/python -m pytest

airflow: install
	$(BIN)/python -m demo.airflow_local

bench: install
	$(BIN)/python -m bench.run

# Regenerate the parts of docs/ written from definitions (tests/test_docs.py checks them).
docs: install
	$(BIN)/python docs/generate.py

# Re-pin both trees, keeping current pins where they still fit (uv reads the
# output files). The dev tree is constrained to the runtime pins; its file keeps
# `-r requirements.txt` and only the pins the runtime tree does not already have.
lock: install
	$(UV_COMPILE) requirements.in -o requirements.txt
	$(UV_COMPILE) requirements-dev.in -o requirements-dev.txt
	{ echo "-r requirements.txt"; grep -vxFf requirements.txt requirements-dev.txt; } > requirements-dev.txt.new
	mv requirements-dev.txt.new requirements-dev.txt

clean:
	rm -rf .airflow .demo .pytest_cache .test-postgres
