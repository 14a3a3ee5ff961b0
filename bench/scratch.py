"""Scratch databases for the benchmarks, on the Postgres of TEST_POSTGRES_URL (default: local).

Names are unique per run (``unique_name``: prefix, process id, random suffix),
so two benchmarks, or a benchmark and a test run, never drop each other's databases.
"""
from __future__ import annotations

import os
import sys
import uuid

import psycopg
from psycopg import sql

from demo.localenv import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "plugins"))

from customer_health.warehouse.db import connect, ensure_database, url_with_database  # noqa: E402
from customer_health.warehouse.migrate import migrate  # noqa: E402

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def unique_name(prefix: str) -> str:
    """A database name no other run uses: ``<prefix>_<pid>_<8 hex>``."""
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def drop(dbname: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def recreate(dbname: str, *, warehouse: bool = False) -> str:
    """An empty database (a migrated warehouse when ``warehouse``); returns its URL."""
    drop(dbname)
    url = url_with_database(ADMIN_URL, dbname)
    ensure_database(url)
    if warehouse:
        with connect(url) as conn:
            migrate(conn)
    return url
