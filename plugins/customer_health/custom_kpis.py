"""Custom KPIs of ``kpis.yml`` (``kpis:`` entries with a kind) as columns of ``marts.account_daily_kpis``.

Called at the end of ``kpis.build_kpis`` / ``kpis.rebuild_kpis``, inside their
transaction, after the standard KPI rows of the days are written:

1. **Rollup.** ``intermediate.account_day_events`` (day, account, event name:
   events, duration) of the days the standard rollups just rewrote, one
   statement (one indexed read of a day, one grouped pass over a range); while
   a KPI counts distinct users, ``intermediate.account_day_user_events`` (day,
   account, user, event name) the same way (the standard rollups keep who was
   active but not with which event, the per-event one which events but not
   whose). A new day is read once into them; no KPI reads the events again.
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
   column of the target days. Every KPI that reads the rollups shares one pass
   (``kpis/custom/windows.sql``): the rollups of at most 2 x the longest window
   before the first target day, grouped by account and day with a FILTERed
   measure per KPI, one sort, and per KPI a RANGE-framed window over it (no
   account x day grid, nothing fans out). ``days_since`` of ONE new day reads
   the carried-forward ``intermediate.account_event_state`` (first and last day
   per account and event name, folded each day); a range, or a day before the
   state's last folded day, takes a running min / max in the shared pass over
   all rollups instead. Both give the same numbers (tested day by day against a
   full rebuild, whole table against whole table). Distinct users / features
   count each key's active days as spans of at most ``window`` days
   (``kpis/custom/distinct_keys.sql``: window - 1 days of rollups before the
   first target day). The account kinds read what was known at the end of each
   day, as the standard statement does: ``tenure`` (since crm_created) and
   ``crm`` the ``history.crm_accounts`` version known that day, ``contract``
   the ``history.crm_contracts`` versions known that day, ``survey`` the answers
   submitted by then; a later CRM load never changes an earlier day.

Why columns and not a long ``(account_id, day, kpi, value)`` table, measured at
20,000 accounts x 365 days (7.3M account-days, one KPI, filled by
generate_series, load average 3.2 on this shared 2-core machine): as a column
one KPI adds 55 MB to the mart (308 -> 363 MB); as a long table it is 7.3M
rows, 419 MB of heap + 283 MB of key = 702 MB per KPI. Reading 30 days of it
for every account (600,000 values) took 88-124 ms from the column (day index)
and 124-132 ms from the long table (key ``(kpi, day, account_id)``). Scoring
already reads KPIs by column (``scoring/engine.py::_kv_columns``), and
``ADD COLUMN`` without a default is metadata only, so columns need no
migration either. The cost: the columns are written by an UPDATE after the
standard statement's INSERT of the same rows (a second write of each row).
"""
from __future__ import annotations

import json
import logging
import time
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
    started = time.perf_counter()
    span = {"first_day": first_day, "last_day": day}
    run_sql_file(conn, "intermediate/account_day_events.sql", span)
    _roll_up_users(conn, config, first_day, day)
    through = fetch_one_sql_file(conn, "intermediate/account_event_state_through.sql")["through"]
    state_is_of_the_day = through is None or through <= day
    run_sql_file(conn, "intermediate/account_event_state_fold.sql", span)
    backfill = _sync_columns(conn, config)
    _backfill(conn, config, backfill)
    _compute(conn, config, list(config.custom()), day, day, days_since_from_state=state_is_of_the_day)
    log.info("custom KPIs of %s: %d declared (%d backfilled), days_since from the %s, in %.2f s", day,
             len(config.custom()), len(backfill), "state" if state_is_of_the_day else "rollups",
             time.perf_counter() - started)


def rebuild_custom_kpis(conn: psycopg.Connection, first_day: date, start: date, end: date, config: KpisFile) -> None:
    """The range path: rollups of ``first_day .. end``, the days_since state from all rollups, values of ``start .. end``."""
    if not config.custom():
        _without_custom_kpis(conn, config)
        return
    started = time.perf_counter()
    run_sql_file(conn, "intermediate/account_day_events.sql", {"first_day": first_day, "last_day": end})
    _roll_up_users(conn, config, first_day, end)
    run_sql_file(conn, "intermediate/account_event_state_rebuild.sql")
    backfill = _sync_columns(conn, config)
    _backfill(conn, config, backfill)
    _compute(conn, config, [n for n in config.custom() if n not in backfill], start, end)
    log.info("custom KPIs of %s .. %s (rollups from %s): %d declared (%d backfilled over the whole mart) in %.2f s",
             start, end, first_day, len(config.custom()), len(backfill), time.perf_counter() - started)


def _without_custom_kpis(conn: psycopg.Connection, config: KpisFile) -> None:
    """No custom KPI declared: no per-event rollup is kept (it would cost a pass over the day's events for
    nothing), and what an earlier declaration left is emptied, so a KPI declared later starts from all history
    (an empty rollup is rolled up from the first event) instead of from a rollup with a gap."""
    _sync_columns(conn, config)
    run_sql_file(conn, "intermediate/account_day_events_forget.sql")
    run_sql_file(conn, "intermediate/account_day_user_events_forget.sql")


def _counts_users(config: KpisFile) -> bool:
    return any(e.distinct and e.distinct.of == "users" for e in config.custom().values())


def _roll_up_users(conn: psycopg.Connection, config: KpisFile, first_day: date, last_day: date) -> None:
    """The per-user event rollup of the days just rolled up, kept only while a KPI counts distinct users;
    the first build after one is declared rolls up all history once (one pass), as for the per-event rollup."""
    if not _counts_users(config):
        run_sql_file(conn, "intermediate/account_day_user_events_forget.sql")
        return
    if fetch_one_sql_file(conn, "intermediate/account_day_user_events_empty.sql")["empty"]:
        first_event_at = fetch_one_sql_file(conn, "kpis/first_event_at.sql")["first_event_at"]
        if first_event_at is not None:
            first_day = min(first_day, first_event_at.astimezone(timezone.utc).date())
    run_sql_file(conn, "intermediate/account_day_user_events.sql", {"first_day": first_day, "last_day": last_day})


def _sync_columns(conn: psycopg.Connection, config: KpisFile) -> list[str]:
    """Add declared columns, drop undeclared ones; returns the KPIs whose column must be (re)built over all days."""
    recorded = {r["name"]: r for r in fetch_sql_file(conn, "kpis/custom/definitions.sql")}
    declared = config.custom()
    # ALTER TABLE locks out the mart's readers until the build commits: only when a column is missing.
    columns = {r["name"] for r in fetch_sql_file(conn, "kpis/custom/mart_columns.sql")}
    changed = []
    for name, entry in declared.items():
        if name not in columns:
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
            if name in columns:
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
    sources, joins = statement.sources_and_joins()
    run_sql_file(conn, "kpis/custom/values.sql", {"start": start, "end": end, **statement.params},
                 sources=sources, assignments=sql.SQL(", ").join(assignments),
                 values=sql.SQL("").join(values), joins=joins)
    run_sql_file(conn, "kpis/custom/mark_built.sql", {"start": start, "end": end, "names": names})


class _Statement:
    """The generated parts of values.sql and each KPI's value expression.

    Every KPI that reads the rollups by day shares ONE pass (``kpis/custom/windows.sql``):
    one grouping of the rollups by account and day with a FILTERed measure per
    KPI, one sort by account and day, and a window per KPI over it (Postgres
    computes windows of the same ordering from one sort). The other sources are
    one CTE each, LEFT JOINed onto the target rows ``t``: days_since of one new
    day from the state (``days_since_state.sql``); distinct users / features
    (``distinct_keys.sql``); the CRM account version known that day
    (``crm_accounts.sql``, shared by tenure and crm), the contract facts known
    that day (``contracts.sql``, shared by every contract KPI) and one survey's
    answers (``survey.sql``).
    """

    def __init__(self, config: KpisFile, days_since_from_state: bool):
        self.config = config
        self.from_state = days_since_from_state
        self.params: dict[str, object] = {}
        self._measures: list[sql.Composable] = []
        self._zeros: list[sql.Composable] = []
        self._filters: list[sql.Composable] = []
        self._windows: list[sql.Composable] = []
        self._reach: int | None = 0  # days before start the rollups are read from; None: all history
        self._items: dict[str, str] = {}
        self._sources: dict[str, sql.Identifier] = {}  # a CTE LEFT JOINed onto t, by what it computes
        self._bodies: list[sql.Composable] = []
        self._crm_columns: list[str] = []

    def expression(self, name: str) -> sql.Composable:
        entry = self.config.kpis.get(name)
        if entry is None or entry.kind is None:  # a standard KPI: the row's column
            return sql.SQL("t.{}::double precision").format(sql.Identifier(name))
        if entry.ratio:
            return sql.SQL("({} / nullif({}, 0))").format(
                self.expression(entry.ratio.numerator), self.expression(entry.ratio.denominator))
        if entry.change:
            item = self._windowed(entry.change.of, self.config.kpis[entry.change.of], with_previous=True)
            return sql.SQL("(w.{} / nullif(w.{}, 0) - 1)::double precision").format(
                sql.Identifier(f"v{item}"), sql.Identifier(f"prev{item}"))
        if entry.days_since or (entry.tenure and entry.tenure.since == "first_event"):
            which = entry.days_since.which if entry.days_since else "first"
            if self.from_state:
                return sql.SQL("{}.v").format(self._state_source(name, entry, which))
            item = self._days_since(name, entry, which)
            return sql.SQL("(t.day - w.{})::double precision").format(sql.Identifier(f"hit{item}"))
        if entry.tenure:  # since crm_created
            return sql.SQL("(t.day - {}.created_on)::double precision").format(self._crm(None))
        if entry.crm:
            return sql.SQL("{}.{}::double precision").format(self._crm(entry.crm.property),
                                                             sql.Identifier(entry.crm.property))
        if entry.contract:
            return sql.SQL("{}.{}").format(
                self._source("contracts", lambda: sql_statement("kpis/custom/contracts.sql")),
                sql.Identifier(entry.contract.fact))
        if entry.survey:
            return sql.SQL("{}.{}").format(self._survey(entry), sql.Identifier(entry.survey.measure))
        if entry.distinct and entry.distinct.of != "days":
            return sql.SQL("coalesce({}.v, 0)").format(self._distinct_keys(name, entry))
        item = self._windowed(name, entry, with_previous=False)
        return sql.SQL("w.{}::double precision").format(sql.Identifier(f"v{item}"))

    def _source(self, key: str, body) -> sql.Identifier:
        """The alias of the CTE computing ``key`` (made once, from ``body()``)."""
        if key not in self._sources:
            alias = sql.Identifier(f"s{len(self._sources)}")
            self._sources[key] = alias
            self._bodies.append((alias, body()))
        return self._sources[key]

    def _crm(self, column: str | None) -> sql.Identifier:
        """The shared CTE of the CRM account version known on each target day (created_on, and ``column``
        among its columns: the body is composed at the end, once every column is known)."""
        if column is not None and column not in self._crm_columns:
            self._crm_columns.append(column)
        return self._source("crm_accounts", lambda: None)

    def _survey(self, entry: KpiDeclaration) -> sql.Identifier:
        survey = entry.survey
        key = f"survey_{survey.survey}_{survey.window_days or 1}"  # latest and age_days share one
        self.params[key] = survey.survey
        return self._source(key, lambda: sql_statement(
            "kpis/custom/survey.sql", survey=sql.Placeholder(key),
            preceding=sql.Literal(f"{(survey.window_days or 1) - 1} days")))

    def _distinct_keys(self, name: str, entry: KpiDeclaration) -> sql.Identifier:
        spec = entry.distinct
        users = spec.of == "users"

        def body():
            filter_ = self._filter(f"k{len(self._sources)}", spec)
            return sql_statement(
                "kpis/custom/distinct_keys.sql", key=sql.Identifier("user_id" if users else "event_name"),
                rollup=sql.Identifier("intermediate", "account_day_user_events" if users else "account_day_events"),
                since=sql.SQL("%(start)s::date - {}").format(sql.Literal(spec.window - 1)),
                filter=filter_, window=sql.Literal(spec.window))
        return self._source(f"distinct/{name}", body)

    def _item(self, key: str, entry: KpiDeclaration, measure, zero: sql.Composable):
        """A measure column of the shared pass (once per KPI), its number and whether it is new."""
        if key in self._items:
            return self._items[key], False
        number = str(len(self._items))
        self._items[key] = number
        filter_ = self._filter(number, entry.spec)
        self._filters.append(filter_)
        self._measures.append(sql.SQL(", {} AS {}").format(measure(filter_), sql.Identifier(f"x{number}")))
        self._zeros.append(sql.SQL(", {}").format(zero))
        return number, True

    def _windowed(self, name: str, entry: KpiDeclaration, with_previous: bool) -> str:
        number, new = self._item(name, entry, self._measure(entry), sql.SQL("0"))
        window = entry.spec.window
        frame = sql.SQL("PARTITION BY account_id ORDER BY day RANGE BETWEEN {}::interval PRECEDING AND ")
        x = sql.Identifier(f"x{number}")
        if new:
            self._windows.append(sql.SQL(", sum({}) OVER ({} CURRENT ROW) AS {}").format(
                x, frame.format(sql.Literal(f"{window - 1} days")), sql.Identifier(f"v{number}")))
        if with_previous and f"{name}/previous" not in self._items:
            self._items[f"{name}/previous"] = number
            self._windows.append(sql.SQL(", sum({}) OVER ({} {}::interval PRECEDING) AS {}").format(
                x, frame.format(sql.Literal(f"{2 * window - 1} days")), sql.Literal(f"{window} days"),
                sql.Identifier(f"prev{number}")))
        if self._reach is not None:
            self._reach = max(self._reach, 2 * window - 1 if with_previous else window - 1)
        return number

    def _days_since(self, name: str, entry: KpiDeclaration, which: str) -> str:
        number, new = self._item(name, entry, lambda f: sql.SQL("max(day) FILTER (WHERE {})").format(f),
                                 sql.SQL("NULL::date"))
        if new:  # the last (max) or first (min) matching day on or before each day, peers included
            self._windows.append(sql.SQL(", {}({}) OVER (PARTITION BY account_id ORDER BY day) AS {}").format(
                sql.SQL("max" if which == "last" else "min"), sql.Identifier(f"x{number}"),
                sql.Identifier(f"hit{number}")))
        self._reach = None
        return number

    def _state_source(self, name: str, entry: KpiDeclaration, which: str) -> sql.Identifier:
        last = which == "last"
        return self._source(f"state/{name}", lambda: sql_statement(
            "kpis/custom/days_since_state.sql", filter=self._filter(f"s{len(self._sources)}", entry.spec),
            pick=sql.SQL("max" if last else "min"), state_day=sql.Identifier("last_day" if last else "first_day")))

    def sources_and_joins(self) -> tuple[sql.Composable, sql.Composable]:
        """The CTEs after ``target`` and the joins onto the target rows ``t``."""
        sources, joins = [], []
        for alias, body in self._bodies:
            if body is None:  # the CRM versions, with the columns the KPIs asked for
                body = sql_statement("kpis/custom/crm_accounts.sql", columns=sql.SQL("").join(
                    sql.SQL(", h.{}").format(sql.Identifier(c)) for c in self._crm_columns))
            sources.append(sql.SQL(",\n{} AS ({})").format(alias, body))
            joins.append(sql.SQL("\n    LEFT JOIN {} ON {}.account_id = t.account_id AND {}.day = t.day").format(
                alias, alias, alias))
        if self._measures:
            since = (sql.SQL("'-infinity'::date") if self._reach is None
                     else sql.SQL("%(start)s::date - {}").format(sql.Literal(self._reach)))
            body = sql_statement("kpis/custom/windows.sql", since=since, measures=sql.SQL("").join(self._measures),
                                 zeros=sql.SQL("").join(self._zeros), windows=sql.SQL("").join(self._windows),
                                 any_filter=sql.SQL(" OR ").join(sql.SQL("({})").format(f) for f in self._filters))
            sources.append(sql.SQL(",\nw AS ({})").format(body))
            joins.append(sql.SQL("\n    JOIN w ON w.account_id = t.account_id AND w.day = t.day"))
        return sql.SQL("").join(sources), sql.SQL("").join(joins)

    def _filter(self, number: str, spec) -> sql.Composable:
        events, pattern = getattr(spec, "events", None), getattr(spec, "events_matching", None)
        if events is not None:
            self.params[f"events_{number}"] = list(events)
            return sql.SQL("event_name = ANY ({}::text[])").format(sql.Placeholder(f"events_{number}"))
        if pattern is not None:
            self.params[f"pattern_{number}"] = pattern
            return sql.SQL("event_name LIKE {}::text").format(sql.Placeholder(f"pattern_{number}"))
        return sql.SQL("true")

    @staticmethod
    def _measure(entry: KpiDeclaration):
        """The per-(account, day) measure of a windowed KPI, given its filter."""
        if entry.count:
            return lambda f: sql.SQL("coalesce(sum(events) FILTER (WHERE {}), 0)::numeric").format(f)
        if entry.sum:
            return lambda f: sql.SQL("coalesce(sum({}) FILTER (WHERE {}), 0) / {}").format(
                sql.Identifier(entry.sum.field), f, sql.Literal(_SECONDS_PER[entry.sum.scale]))
        return lambda f: sql.SQL("(count(*) FILTER (WHERE {}) > 0)::int::numeric").format(f)  # distinct days
