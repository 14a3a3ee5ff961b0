"""Custom KPIs of ``kpis.yml`` (``kpis:`` entries with a kind) as columns of ``marts.account_daily_kpis``.

Called at the end of ``kpis.build_kpis`` / ``kpis.rebuild_kpis``, inside their
transaction, after the standard KPI rows of the days are written:

1. **Rollup.** ``intermediate.account_day_events`` (day, account, event name:
   events, duration) of the days the standard rollups just rewrote, one
   statement (one indexed read of a day, one grouped pass over a range).
2. **Columns.** Each declared custom KPI is a ``double precision`` column
   (``ADD COLUMN IF NOT EXISTS``: metadata only, no table rewrite);
   ``meta.kpi_definitions`` records its definition hash
   (``config.kpis.definition_hash``). A new or changed hash backfills that
   column alone over every day the mart has; a KPI no longer declared has its
   column dropped (its row is kept, marked retired): the mart's columns are
   then exactly the catalogue, scorecards cannot read a column nothing updates
   any more, and scores already made keep their values in
   ``marts.health_score_components``.
3. **Values.** One generated UPDATE (``kpis/custom/values.sql``) sets every
   column of the target days. Windowed kinds read the rollups of at most
   2 x window days before the first target day, summed by RANGE frames per
   account (no account x day grid, nothing fans out). ``days_since`` of ONE new
   day reads the carried-forward ``intermediate.account_event_state`` (first and
   last day per account and event name, folded each day); a range, or a day
   before the state's last folded day, reads the rollups with a running
   min / max instead. Both give the same numbers (tested day by day against a
   full rebuild, whole table against whole table).

Why columns and not a long ``(account_id, day, kpi, value)`` table, measured at
20,000 accounts x 365 days (7.3M account-days, one KPI, generate_series, this
2-core machine shared with two other jobs, load average 3-4): see the README
section "Adding a KPI" for the figures. Scoring reads KPIs by column
(``scoring/engine.py::_kv_columns``), a column costs 8 bytes a row where a long
row costs ~40 plus its index entry, and reading 30 days of one KPI for every
account is one index range of the day index either way.
"""
from __future__ import annotations

import json
import logging
from datetime import date, timezone

import psycopg
from psycopg import sql

from customer_health.config.kpis import KpiDeclaration, KpisFile, definition_hash
from customer_health.warehouse.sqlfiles import fetch_one_sql_file, fetch_sql_file, run_sql_file, sql_statement

log = logging.getLogger(__name__)

_SECONDS_PER = {"seconds": 1, "minutes": 60, "hours": 3600}


def build_custom_kpis(conn: psycopg.Connection, first_day: date, day: date, config: KpisFile) -> None:
    """The daily path: rollups of ``first_day .. day`` (the days the standard rollups rewrote), values of ``day``."""
    if not config.custom():
        _without_custom_kpis(conn, config)
        return
    if fetch_one_sql_file(conn, "intermediate/account_day_events_empty.sql")["empty"]:
        first_event_at = fetch_one_sql_file(conn, "kpis/first_event_at.sql")["first_event_at"]
        if first_event_at is not None:  # first build with this rollup: all history once, in one pass
            first_day = min(first_day, first_event_at.astimezone(timezone.utc).date())
    span = {"first_day": first_day, "last_day": day}
    run_sql_file(conn, "intermediate/account_day_events.sql", span)
    through = fetch_one_sql_file(conn, "intermediate/account_event_state_through.sql")["through"]
    state_is_of_the_day = through is None or through <= day
    run_sql_file(conn, "intermediate/account_event_state_fold.sql", span)
    backfill = _sync_columns(conn, config)
    _backfill(conn, config, backfill)
    _compute(conn, config, list(config.custom()), day, day, days_since_from_state=state_is_of_the_day)


def rebuild_custom_kpis(conn: psycopg.Connection, first_day: date, start: date, end: date, config: KpisFile) -> None:
    """The range path: rollups of ``first_day .. end``, the days_since state from all rollups, values of ``start .. end``."""
    if not config.custom():
        _without_custom_kpis(conn, config)
        return
    run_sql_file(conn, "intermediate/account_day_events.sql", {"first_day": first_day, "last_day": end})
    run_sql_file(conn, "intermediate/account_event_state_rebuild.sql")
    backfill = _sync_columns(conn, config)
    _backfill(conn, config, backfill)
    _compute(conn, config, [n for n in config.custom() if n not in backfill], start, end)


def _without_custom_kpis(conn: psycopg.Connection, config: KpisFile) -> None:
    """No custom KPI declared: no per-event rollup is kept (it would cost a pass over the day's events for
    nothing), and what an earlier declaration left is emptied, so a KPI declared later starts from all history
    (an empty rollup is rolled up from the first event) instead of from a rollup with a gap."""
    _sync_columns(conn, config)
    run_sql_file(conn, "intermediate/account_day_events_forget.sql")


def _sync_columns(conn: psycopg.Connection, config: KpisFile) -> list[str]:
    """Add declared columns, drop undeclared ones; returns the KPIs whose column must be (re)built over all days."""
    recorded = {r["name"]: r for r in fetch_sql_file(conn, "kpis/custom/definitions.sql")}
    declared = config.custom()
    changed = []
    for name, entry in declared.items():
        run_sql_file(conn, "kpis/custom/add_column.sql", column=sql.Identifier(name))
        digest = definition_hash(name, config)
        row = recorded.get(name)
        if row is None or row["definition_hash"] != digest or row["retired_at"] is not None:
            changed.append(name)
        run_sql_file(conn, "kpis/custom/record_definition.sql", {
            "name": name, "definition_hash": digest, "kind": entry.kind, "label": entry.label,
            "description": entry.description, "definition": json.dumps(entry.spec.model_dump(mode="json"))})
    for name, row in recorded.items():
        if name not in declared and row["retired_at"] is None:
            run_sql_file(conn, "kpis/custom/drop_column.sql", column=sql.Identifier(name))
            run_sql_file(conn, "kpis/custom/retire.sql", {"name": name})
            log.info("custom KPI %s is no longer declared in kpis.yml: its column is dropped", name)
    return changed


def _backfill(conn: psycopg.Connection, config: KpisFile, names: list[str]) -> None:
    span = fetch_one_sql_file(conn, "kpis/custom/mart_span.sql")
    if names and span["first_day"] is not None:
        log.info("custom KPIs new or changed in kpis.yml: %s; backfilling their columns over %s .. %s",
                 ", ".join(names), span["first_day"], span["last_day"])
        _compute(conn, config, names, span["first_day"], span["last_day"])


def _compute(conn: psycopg.Connection, config: KpisFile, names: list[str], start: date, end: date,
             days_since_from_state: bool = False) -> None:
    if not names:
        return
    statement = _Statement(config, days_since_from_state)
    assignments = [sql.SQL("{} = x.{}").format(sql.Identifier(n), sql.Identifier(n)) for n in names]
    values = [sql.SQL(", {} AS {}").format(statement.expression(n), sql.Identifier(n)) for n in names]
    run_sql_file(conn, "kpis/custom/values.sql", {"start": start, "end": end, **statement.params},
                 sources=sql.SQL("").join(statement.sources), assignments=sql.SQL(", ").join(assignments),
                 values=sql.SQL("").join(values), joins=sql.SQL("").join(statement.joins))
    run_sql_file(conn, "kpis/custom/mark_built.sql", {"start": start, "end": end, "names": names})


class _Statement:
    """The generated parts of values.sql: a CTE per event-reading KPI, and each KPI's value expression."""

    def __init__(self, config: KpisFile, days_since_from_state: bool):
        self.config = config
        self.from_state = days_since_from_state
        self.sources: list[sql.Composable] = []
        self.joins: list[sql.Composable] = []
        self.params: dict[str, object] = {}
        self._aliases: dict[str, sql.Identifier] = {}

    def expression(self, name: str) -> sql.Composable:
        entry = self.config.kpis.get(name)
        if entry is None or entry.kind is None:  # a standard KPI: the row's column
            return sql.SQL("t.{}::double precision").format(sql.Identifier(name))
        if entry.ratio:
            return sql.SQL("({} / nullif({}, 0))").format(
                self.expression(entry.ratio.numerator), self.expression(entry.ratio.denominator))
        if entry.change:
            alias = self._source(entry.change.of, self.config.kpis[entry.change.of], with_previous=True)
            return sql.SQL("({}.v / nullif({}.prev, 0) - 1)::double precision").format(alias, alias)
        alias = self._source(name, entry, with_previous=False)
        return sql.SQL("{}.v::double precision").format(alias)

    def _source(self, name: str, entry: KpiDeclaration, with_previous: bool) -> sql.Identifier:
        key = f"{name}/{with_previous}"
        if key in self._aliases:
            return self._aliases[key]
        alias = sql.Identifier(f"k{len(self._aliases)}")
        self._aliases[key] = alias
        spec = entry.spec
        filter_ = self._filter(len(self._aliases), spec)
        if entry.days_since:
            if self.from_state:
                body = sql_statement("kpis/custom/days_since_state.sql", filter=filter_,
                                     pick=sql.SQL("max" if spec.which == "last" else "min"),
                                     state_day=sql.Identifier("last_day" if spec.which == "last" else "first_day"))
            else:
                body = sql_statement("kpis/custom/days_since_rollups.sql", filter=filter_,
                                     pick=sql.SQL("max" if spec.which == "last" else "min"))
        else:
            window = spec.window
            body = sql_statement(
                "kpis/custom/windowed.sql", filter=filter_, measure=self._measure(entry),
                window_back=sql.Literal(f"{window - 1} days"),
                previous_back=sql.Literal(f"{2 * window - 1} days"), window=sql.Literal(f"{window} days"),
                reach=sql.Literal(2 * window - 1 if with_previous else window - 1))
        self.sources.append(sql.SQL(",\n{} AS ({})").format(alias, body))
        self.joins.append(sql.SQL("\n    LEFT JOIN {} ON {}.account_id = t.account_id AND {}.day = t.day").format(
            alias, alias, alias))
        return alias

    def _filter(self, number: int, spec) -> sql.Composable:
        events, pattern = getattr(spec, "events", None), getattr(spec, "events_matching", None)
        if events is not None:
            self.params[f"events_{number}"] = list(events)
            return sql.SQL("event_name = ANY ({}::text[])").format(sql.Placeholder(f"events_{number}"))
        if pattern is not None:
            self.params[f"pattern_{number}"] = pattern
            return sql.SQL("event_name LIKE {}::text").format(sql.Placeholder(f"pattern_{number}"))
        return sql.SQL("true")

    @staticmethod
    def _measure(entry: KpiDeclaration) -> sql.Composable:
        if entry.count:
            return sql.SQL("sum(events)")
        if entry.sum:
            return sql.SQL("sum({}) / {}").format(sql.Identifier(entry.sum.field),
                                                   sql.Literal(_SECONDS_PER[entry.sum.scale]))
        return sql.SQL("1")  # distinct days: one per (account, day) group
