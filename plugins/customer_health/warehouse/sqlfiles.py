"""Run a multi-statement SQL file from ``include/sql`` with bind parameters.

Postgres prepares one statement at a time when parameters are bound, so the
file is split on statement-ending semicolons (``;`` at the end of a line).
Our SQL files keep semicolons out of string literals for that reason, and
placeholders out of comments (a placeholder in a comment still counts as a
parameter, and Postgres cannot type one that nothing uses).
"""
from __future__ import annotations

import re

import psycopg
from psycopg.rows import dict_row

from customer_health.paths import read_sql

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


def run_sql_file(conn: psycopg.Connection, relative: str, params: dict) -> None:
    for statement in statements(read_sql(relative)):
        conn.execute(statement, params)


def fetch_rows(conn: psycopg.Connection, relative: str, params: dict) -> list[dict]:
    """Rows of a one-statement SQL file from ``include/sql``, each a dict by column name."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(read_sql(relative), params).fetchall()
