"""Fixtures for the demo kit: throwaway Postgres databases and one generated
dataset shared by the generator and emulator tests (generating is the slow
part, so it happens once per session)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from demo.generate import DEFAULT_END_DATE, generate

ADMIN_URL = os.environ["TEST_POSTGRES_URL"]  # set by tests/conftest.py to the server this session uses


@pytest.fixture(scope="session")
def database_url():
    """A factory of database URLs named ``demo_test_<random>``; the databases
    are not created here (the code under test must create them) but are
    dropped at the end of the session."""
    names: list[str] = []

    def new_url() -> str:
        names.append(f"demo_test_{uuid.uuid4().hex[:10]}")
        return make_conninfo(ADMIN_URL, dbname=names[-1])

    yield new_url
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                         .format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory, database_url):
    """A mid-sized demo (120 accounts over 150 days): (out dir, product DB URL, counts)."""
    out = tmp_path_factory.mktemp("demo")
    url = database_url()
    counts = generate(out, accounts=120, days=150, seed=7, end_date=DEFAULT_END_DATE,
                      product_db_url=url)
    return Path(out), url, counts
