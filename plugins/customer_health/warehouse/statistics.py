"""Planner statistics of the tables a step writes and reads next (autovacuum is not relied on).

Two rules, one place:

``analyze_tables_changed_a_lot(conn, tables)``
    ANALYZE (whole) each table whose rows written since its last ANALYZE
    exceed a tenth of the rows its statistics know, like autovacuum's analyze
    scale factor. A first run or a rebuild changes a table whole and is
    analysed; one new day of a long history is not, so its cost does not grow
    with history.

The day-keyed marts (``marts.account_daily_kpis``, ``marts.health_scores``,
``marts.account_quadrants``) are read by day right after a day is written: a
day missing from the statistics is taken for one row and joined by nested
loops (149 s at 20,000 accounts, stop 20). So their SQL files ANALYZE their
day and version columns after every write, and migration V100 gives those
columns a statistics target of 10: a sample of 3,000 rows, a constant cost
(70 ms at 5.46M KPI rows), where the default 30,000-row sample of the key
columns read pages from all over a table that grows by a day each day
(1.0-1.5 s at 365 days of KPIs). Their account columns, whose distribution
barely moves, follow the first rule.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

import psycopg
from psycopg import sql

from customer_health.warehouse.sqlfiles import fetch_sql_file, run_sql_file

log = logging.getLogger(__name__)


def analyze_tables_changed_a_lot(conn: psycopg.Connection, tables: Iterable[str]) -> list[str]:
    """ANALYZE those of ``tables`` (``schema.table``) that changed a lot; returns their names."""
    stale = fetch_sql_file(conn, "warehouse/statistics/tables_changed_a_lot.sql", {"tables": list(tables)})
    for table in stale:
        run_sql_file(conn, "warehouse/statistics/analyze_table.sql",
                     table=sql.Identifier(table["schema_name"], table["table_name"]))
    analysed = [f'{t["schema_name"]}.{t["table_name"]}' for t in stale]
    log.debug("analysed %s", ", ".join(analysed) or "nothing: the statistics are fresh enough")
    return analysed
