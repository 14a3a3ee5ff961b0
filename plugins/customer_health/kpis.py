"""Daily KPIs per account (``marts.account_daily_kpis``), computed inside Postgres.

Two entry points, each ONE transaction: a failed or killed run leaves the
previous state, readers never see half a day, and a rerun gives the same rows.

``build_kpis(conn, day)``
    The daily run. Rewrites the usage rollups of ``day`` only (delete + insert),
    reading one day of events through the ``occurred_at`` index, then that day's
    KPI rows, whose 7 / 30-day windows come from the rollups of the 60 days
    before grouped by account (never from raw events, and no account x day
    grid). What it needs from before those 60 days (last login, milestones)
    comes from a per-account state carried forward by each build
    (``intermediate.account_day_state``, one index probe per account), and the
    days that already have rollups from ``intermediate.rolled_up_days``: so its
    cost does not grow with history. A day with events but no rollup (the first
    run, a run that did not happen) is rolled up too, with a warning, rather
    than undercounting; rewriting an older day rewrites the state from it on.

``rebuild_kpis(conn, start, end)``
    First runs, backfills, changed definitions, late data. Rewrites the rollups
    of every day with events up to ``end`` in ONE pass over the events (one hash
    aggregate by day, account and user), the carried-forward state whole, then
    the KPI rows of all of ``start .. end`` in one statement on an account x day
    grid (``marts/kpi_windows/grid.sql``). Looping ``build_kpis`` instead would
    read each day's rollups 60 times over.

Why this shape: events are by far the biggest table, so they are read once
into small per-day rollups (``intermediate.account_day_activity`` with a bit
per event name used, ``intermediate.user_day_activity`` with who was active,
and the view ``intermediate.account_feature_day``); everything else is set-based
SQL (``include/sql/marts/account_daily_kpis.sql``, with the usage windows of one
day or of a range composed in). The integration tests check the day-by-day path
against a full recompute, whole table against whole table, and that the rows do
not change with the plan. Every table a statement reads right after writing it
is ANALYZEd inside the transaction when the write changed it a lot (autovacuum
is not relied on; one new day of 60 does not, so the daily build skips it:
``warehouse/statistics.py``).

Everything is as of the end of each UTC day. CRM accounts, contracts,
licences and users are read as the warehouse knew them then
(``history.<stream>``, kept by the loader: ``warehouse/history.py``), so a
later load that changes seats, ARR or a contract, or deletes a user, never
changes a past day, in the daily build or a rebuild. "Known on day D" means
the version the latest load by the end of D found; a load at 02:00 on D+1 is
D+1's news. Before a stream's first load the earliest version loaded stands
for every earlier day (the sources keep no history of their own): the best
the warehouse has, and not point in time, which the evaluation flags
(``evaluation.evaluate.not_point_in_time``). Python only
orchestrates: values reach the SQL as bind parameters. Rollups count logins and
core actions as ``include/config/kpis.yml`` said when a day was built: after
changing it, rebuild.
"""
from __future__ import annotations

import logging
import time
from datetime import date, timedelta, timezone

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from customer_health.config.kpis import KpisFile, load_kpis
from customer_health.custom_kpis import build_custom_kpis, rebuild_custom_kpis
from customer_health.warehouse.sqlfiles import fetch_one_sql_file, fetch_sql_file, read_sql, run_sql_file
from customer_health.warehouse.statistics import analyze_tables_changed_a_lot

log = logging.getLogger(__name__)

_LOCK = "customer_health.kpis"
WINDOW_LOOKBACK_DAYS = 59  # the 30-day window and the 30 days before it


class KpiBuildError(RuntimeError):
    """The KPI build cannot go on; the message says why and what to do."""


def build_kpis(conn: psycopg.Connection, day: date, config: KpisFile | None = None) -> int:
    """Rollups and KPI rows of one day; returns the number of KPI rows written."""
    config = config or load_kpis()[0]
    started = time.perf_counter()
    with conn.transaction():
        _prepare(conn)
        first_day = _first_day_missing_rollups(conn, day) or day
        if first_day < day:
            log.warning("rollups of %s .. %s are missing (first run, or runs that did not happen): rolling them up",
                        first_day, day - timedelta(days=1))
        _register_event_names(conn, first_day, day)
        params = _params(conn, config) | {"first_day": first_day, "last_day": day, "state_from": first_day,
                                          "day": day, "start": day, "end": day}
        run_sql_file(conn, "intermediate/activity_rollups.sql", params)
        analyze_tables_changed_a_lot(conn, ROLLUP_TABLES)
        rows = _write_kpis(conn, params)
        build_custom_kpis(conn, first_day, day, config)
    log.info("KPIs of %s: %d accounts in %.2f s", day, rows, time.perf_counter() - started)
    return rows


def rebuild_kpis(conn: psycopg.Connection, start: date, end: date, config: KpisFile | None = None) -> int:
    """Rollups of every day up to ``end`` and KPI rows of ``start .. end``; returns the KPI rows written."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    config = config or load_kpis()[0]
    started = time.perf_counter()
    with conn.transaction():
        _prepare(conn)
        first_event_at = fetch_one_sql_file(conn, "kpis/first_event_at.sql")["first_event_at"]
        # The windows of `start` need the 59 days before it, and milestones / last
        # login need all history: every day with events up to `end` is rolled up.
        first_day = start - timedelta(days=WINDOW_LOOKBACK_DAYS)
        if first_event_at is not None:
            first_day = min(first_day, first_event_at.astimezone(timezone.utc).date())
        _register_event_names(conn, first_day, end)
        # The carried-forward state is recomputed whole (state_from NULL) from the rollups.
        params = _params(conn, config) | {"first_day": first_day, "last_day": end, "state_from": None,
                                          "start": start, "end": end}
        run_sql_file(conn, "intermediate/activity_rollups.sql", params)
        analyze_tables_changed_a_lot(conn, ROLLUP_TABLES)
        rows = _write_kpis(conn, params)
        rebuild_custom_kpis(conn, first_day, start, end, config)
    log.info("KPIs of %s .. %s: %d rows in %.2f s", start, end, rows, time.perf_counter() - started)
    return rows


def _prepare(conn: psycopg.Connection) -> None:
    # One KPI build at a time (event-name bits are handed out here), and enough
    # memory for the groupings; JIT compiles longer than these queries run. The
    # planner cannot estimate the grid's windowed rows and would sort them by
    # text keys for merge joins; every join here is best done by hashing.
    # Allowlisted bookkeeping, one line each.
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK])
    conn.execute("SET LOCAL work_mem = '256MB'")
    conn.execute("SET LOCAL jit = off")
    conn.execute("SET LOCAL enable_mergejoin = off")


def _first_day_missing_rollups(conn: psycopg.Connection, day: date) -> date | None:
    return fetch_one_sql_file(conn, "intermediate/missing_rollup_days.sql", {"day": day})["first_missing_day"]


def _register_event_names(conn: psycopg.Connection, first_day: date, last_day: date) -> None:
    try:
        with conn.transaction():
            run_sql_file(conn, "intermediate/event_names.sql", {"first_day": first_day, "last_day": last_day})
    except psycopg.errors.CheckViolation:
        known = fetch_one_sql_file(conn, "kpis/registered_event_names.sql")["registered"]
        raise KpiBuildError(
            f"more than 63 distinct event names (the feature bits hold 63; {known} are registered). "
            "Map noisy event names to fewer in the product extract, or widen feature_bits in a migration."
        ) from None


def _params(conn: psycopg.Connection, config: KpisFile) -> dict:
    bits = {r["event_name"]: r["bit"] for r in fetch_sql_file(conn, "kpis/event_name_bits.sql")}
    login_bits = (1 << bits[config.login_event]) if config.login_event in bits else 0
    milestone_bits = 0
    for name in config.milestones:
        if name in bits:
            milestone_bits |= 1 << bits[name]
    return {
        "login_event": config.login_event,
        "core_actions": list(config.core_actions),
        "login_bits": login_bits,
        "milestone_bits": milestone_bits,
    }


# What the KPI statement reads right after the rollups wrote it (and the next run's missing-day check).
ROLLUP_TABLES = ("intermediate.account_day_activity", "intermediate.user_day_activity",
                 "intermediate.account_day_state", "intermediate.rolled_up_days")


# What a full rebuild rewrites whole: the rollups, the carried state, the mart, and the custom KPIs' rollups
# and state (empty, and settled at once, when kpis.yml declares none).
REBUILT_TABLES = ROLLUP_TABLES + ("marts.account_daily_kpis", "intermediate.account_day_events",
                                  "intermediate.account_day_user_events", "intermediate.account_event_state")


def settle_rebuilt_tables(conn: psycopg.Connection) -> float:
    """VACUUM (ANALYZE) every table a rebuild rewrote, after its commit; returns the seconds it took.

    A rebuild writes millions of rows in one transaction. Until something
    vacuums them, the first statements to read each row set its commit hint
    bits (dirtying the page) and find no visibility map, and autovacuum is not
    relied on (off on this machine, and late anywhere). So the first daily run
    after a rebuild paid for it: at 20,000 accounts and 365 days of history its
    KPIs took 3.5 s instead of 2.4 s (the probes into the carried state read
    rows from all over history), growing with the history the rebuild wrote.
    This costs 8.6 s there, once per rebuild. VACUUM cannot run inside a
    transaction: the caller commits the rebuild first.
    """
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise ValueError("settle_rebuilt_tables runs after the rebuild's commit, with no transaction open")
    started = time.perf_counter()
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        for name in REBUILT_TABLES:
            run_sql_file(conn, "kpis/vacuum_table.sql", table=sql.Identifier(*name.split(".")))
    finally:
        conn.autocommit = autocommit
    seconds = time.perf_counter() - started
    log.info("settled the rebuilt tables (VACUUM ANALYZE of %d) in %.2f s", len(REBUILT_TABLES), seconds)
    return seconds


def _write_kpis(conn: psycopg.Connection, params: dict) -> int:
    # One day: its windows straight from 60 days of rollups; a range: the grid (same rows, tested).
    windows = "one_day" if params["start"] == params["end"] else "grid"
    run_sql_file(conn, "marts/account_daily_kpis.sql", params,
                 usage_windows=sql.SQL(read_sql(f"marts/kpi_windows/{windows}.sql")))
    analyze_tables_changed_a_lot(conn, ["marts.account_daily_kpis"])  # the day alone was analysed (V100)
    return fetch_one_sql_file(conn, "kpis/kpi_row_count.sql", params)["kpi_rows"]
