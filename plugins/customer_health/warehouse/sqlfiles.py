"""Run the SQL files under ``include/sql``: the one way product code sends SQL to Postgres.

Each file holds one statement or one coherent script and starts with a comment
saying why it exists. Values reach it only as bind parameters (``%(name)s``);
identifiers and other composed parts as ``{name}`` placeholders, filled by
``psycopg.sql.SQL(text).format(...)`` (pass ``psycopg.sql.Identifier`` and
friends as keyword arguments). A file run with parts must write literal braces
as ``{{`` ``}}``; a file run without parts is sent as written.

Postgres prepares one statement at a time when parameters are bound, so a
script is split on statement-ending semicolons (``;`` at the end of a line).
Our SQL files keep semicolons out of string literals and off the end of
comment lines for that reason, and placeholders out of comments (a placeholder
in a comment still counts as a parameter, and Postgres cannot type one that
nothing uses). Parameters are always bound (an empty set when there are none),
so a file writes a literal percent sign as ``%%``.

Rows come back as dicts keyed by column name (``dict_row``), never by position.
"""
from __future__ import annotations

import logging
import re
import time
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from customer_health.paths import read_sql

log = logging.getLogger(__name__)

_STATEMENT_END = re.compile(r";[ \t]*(?:--[^\n]*)?$", re.M)


def statements(text: str) -> list[str]:
    parts, start = [], 0
    for match in _STATEMENT_END.finditer(text):
        parts.append(text[start : match.start()])
        start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if _has_code(p)]


def _has_code(part: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in part.splitlines())


def sql_statements(relative: str, **parts: sql.Composable) -> list[sql.Composable]:
    """The statements of a file, with ``{name}`` placeholders filled from ``parts`` (when given)."""
    return [sql.SQL(s).format(**parts) if parts else sql.SQL(s) for s in statements(read_sql(relative))]


def sql_statement(relative: str, **parts: sql.Composable) -> sql.Composable:
    """The one statement of a file (a COPY, or a statement another composes into its own)."""
    found = sql_statements(relative, **parts)
    if len(found) != 1:
        raise ValueError(f"{relative}: expected one statement, found {len(found)}")
    return found[0]


def run_sql_file(conn: psycopg.Connection, relative: str, params: dict | None = None,
                 **parts: sql.Composable) -> int:
    """Run every statement of a file in order; returns the rows the last one touched."""
    rowcount = -1
    for number, statement in enumerate(sql_statements(relative, **parts), start=1):
        started = time.perf_counter()
        rowcount = conn.execute(statement, params or {}).rowcount
        _log_statement(relative, number, rowcount, started)
    return rowcount


def _log_statement(relative: str, number: int, rowcount: int, started: float) -> None:
    # DEBUG: where a slow step spends its time, statement by statement, without EXPLAIN
    # (``customer_health.warehouse.sqlfiles`` at DEBUG in the task's logging config).
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s #%d: %d rows in %.3f s", relative, number, rowcount, time.perf_counter() - started)


def fetch_sql_file(conn: psycopg.Connection, relative: str, params: dict | None = None,
                   **parts: sql.Composable) -> list[dict[str, Any]]:
    """Run a file; returns the rows of its last statement as dicts by column name."""
    *before, last = sql_statements(relative, **parts)
    for number, statement in enumerate(before, start=1):
        started = time.perf_counter()
        rowcount = conn.execute(statement, params or {}).rowcount
        _log_statement(relative, number, rowcount, started)
    with conn.cursor(row_factory=dict_row) as cur:
        started = time.perf_counter()
        cur.execute(last, params or {})
        rows = cur.fetchall()
        _log_statement(relative, len(before) + 1, len(rows), started)
        return rows


def fetch_one_sql_file(conn: psycopg.Connection, relative: str, params: dict | None = None,
                       **parts: sql.Composable) -> dict[str, Any] | None:
    """The first row of a file's last statement as a dict, or None when it returns none."""
    rows = fetch_sql_file(conn, relative, params, **parts)
    return rows[0] if rows else None


def fetch_sql_file_many(conn: psycopg.Connection, relative: str, params_seq: list[dict]) -> list[list[dict[str, Any]]]:
    """Run a one-statement file once per parameter set, pipelined (one round trip for the batch, not one
    per row); returns each run's rows, in the order of ``params_seq``."""
    if not params_seq:
        return []
    statement = sql_statement(relative)
    started = time.perf_counter()
    results = []
    with conn.cursor(row_factory=dict_row) as cur:
        cur.executemany(statement, params_seq, returning=True)
        while True:
            results.append(cur.fetchall() if cur.description else [])
            if not cur.nextset():
                break
    _log_statement(relative, 1, len(params_seq), started)
    return results


def run_sql_file_many(conn: psycopg.Connection, relative: str, params_seq: list[dict]) -> None:
    """Run every statement of a file once per parameter set, statement by statement, each pipelined
    (one round trip per statement for the batch, not one per parameter set): a file that writes a row
    and its history line, for a batch of rows."""
    if not params_seq:
        return
    for number, statement in enumerate(sql_statements(relative), start=1):
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(statement, params_seq)
        _log_statement(relative, number, len(params_seq), started)
