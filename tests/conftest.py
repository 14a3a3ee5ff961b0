"""Shared fixtures: a throwaway warehouse database on a real Postgres, and Airflow set up for this repo.

The Postgres is chosen by the demo's rule (demo/local_postgres.py): ``TEST_POSTGRES_URL``, else
the local server at 127.0.0.1:5432, else an embedded Postgres under ``.test-postgres/`` that is
stopped when the session ends; the report header says which.

The Airflow environment is exported here, at import time, before anything
imports Airflow (it reads its configuration once). Each test session gets its
own AIRFLOW_HOME (SQLite metadata) and its own warehouse and product databases,
dropped at the end.
"""
from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from customer_health.warehouse.db import url_with_database
from demo.local_postgres import NoPostgres, choose
from demo.localenv import REPO_ROOT, airflow_env
from tests.helpers import truncate_warehouse

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
try:
    SERVER = choose(env_var="TEST_POSTGRES_URL", default_url=DEFAULT_ADMIN_URL,
                    pgdata=REPO_ROOT / ".test-postgres" / "pgdata", purpose="the tests")
except NoPostgres as exc:
    pytest.exit(str(exc), returncode=4)
ADMIN_URL = SERVER.url
# Sub-conftests, benchmarks' helpers and subprocesses read the same variable: one server for the session.
os.environ["TEST_POSTGRES_URL"] = ADMIN_URL
atexit.register(SERVER.stop)  # also when the session ends by an error before pytest_unconfigure
SESSION = uuid.uuid4().hex[:8]
WAREHOUSE_DB = f"ch_test_{SESSION}"
PRODUCT_DB = f"ch_test_{SESSION}_product"
WAREHOUSE_URL = url_with_database(ADMIN_URL, WAREHOUSE_DB)
PRODUCT_DB_URL = url_with_database(ADMIN_URL, PRODUCT_DB)
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="ch-test-airflow-"))

_ENV = airflow_env(airflow_home=AIRFLOW_HOME, warehouse_url=WAREHOUSE_URL, product_db_url=PRODUCT_DB_URL, base={})
_ENV.pop("PYTHONPATH")
# The demo keeps INFO in task logs; here Airflow's log setup would print every INFO line of the product
# into the stdout that CLI tests read (tests that check log lines use caplog, which sets its own level).
_ENV["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
os.environ.update(_ENV)
os.environ.pop("AIRFLOW_CONN_HUBSPOT", None)
os.environ.pop("AIRFLOW_CONN_TYPEFORM", None)


def pytest_report_header(config):
    return f"postgres: {SERVER.reason}"


def pytest_configure(config):
    # SIGTERM (a CI timeout, `kill`) ends the session like Ctrl-C does, so pytest_unconfigure runs.
    def _interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _interrupt)


def pytest_unconfigure(config):
    SERVER.stop()


def _admin():
    return psycopg.connect(ADMIN_URL, autocommit=True)


def _drop(dbname: str) -> None:
    with _admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


@pytest.fixture(scope="session")
def warehouse_url():
    """A migrated, empty warehouse database for this session."""
    from customer_health.warehouse.db import connect, ensure_database
    from customer_health.warehouse.migrate import migrate

    ensure_database(WAREHOUSE_URL)
    with connect(WAREHOUSE_URL) as conn:
        migrate(conn)
    yield WAREHOUSE_URL
    _drop(WAREHOUSE_DB)


@pytest.fixture(scope="session")
def product_db_url():
    with _admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PRODUCT_DB)))
    yield PRODUCT_DB_URL
    _drop(PRODUCT_DB)


@pytest.fixture
def warehouse(warehouse_url):
    """The session warehouse, emptied before the test; yields an autocommit connection."""
    truncate_warehouse(warehouse_url)
    with psycopg.connect(warehouse_url, autocommit=True, options="-c TimeZone=UTC") as conn:
        yield conn


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database (SQLite in the session's AIRFLOW_HOME), migrated once."""
    subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        env={**os.environ, "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}"},
        check=True,
        capture_output=True,
    )
    return AIRFLOW_HOME
