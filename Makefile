# Two commands matter: `make demo` (the whole pipeline on sample data) and
# `make test` (the test suite against a real Postgres). Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
export PYTHONPATH := $(CURDIR)/plugins:$(CURDIR)

.PHONY: install demo test airflow bench lock clean

install: $(STAMP)

# Bytecode is compiled at install: the shell may set PYTHONDONTWRITEBYTECODE,
# and without .pyc files every `import airflow` costs twice as long.
$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --quiet -r requirements.txt
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

# Re-pin the whole dependency tree from requirements.in.
lock: install
	$(BIN)/uv pip compile --python-version 3.11 --no-header --no-annotate requirements.in -o requirements.txt

clean:
	rm -rf .airflow .demo .pytest_cache .test-postgres
