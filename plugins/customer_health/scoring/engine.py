"""Score days: register the scorecard version, gate stale sources, compute, roll up.

The arithmetic lives in ``include/sql/marts/health_*.sql`` as set-based SQL
over the scorecards stored as rows (``meta.scorecard_*``), so Python only
moves config into tables and runs the files in order. A scoring is one
transaction: rerunning a day replaces exactly that day's rows for that
config version and nothing else; other versions' rows are never touched.

``score_day`` is the daily run; ``score_days`` scores a range of days with
the same SQL run over many days per statement (a backtest re-scores a year
of 20,000 accounts in minutes that way, where day by day the fixed cost of
each statement repeats 365 times). The SQL is keyed by (account, day), so the
result is the same rows as scoring the days one by one in order (tested).
Besides the score changes, the only thing a day reads from earlier scored
days is a stale feed's last good value: a day with a
stale stream is scored in a pass of its own, after the days before it.
The 1 / 7 / 30-day changes read the days before a pass from the table and
those inside it from the pass itself, so they too are what day-by-day
scoring gives.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import psycopg

from customer_health.config.scorecards import ScorecardsFile
from psycopg import sql

from customer_health.config.kpi_catalog import numeric_kpis
from customer_health.scoring.quality_gate import StreamQuality, configured_streams, judge_streams
from customer_health.warehouse.sqlfiles import fetch_sql_file, run_sql_file
from customer_health.warehouse.statistics import analyze_tables_changed_a_lot

log = logging.getLogger(__name__)


@dataclass
class DayScores:
    day: date
    config_version: str
    accounts: int
    bands: dict[str, int]
    stale_streams: list[StreamQuality]
    quadrants: dict[str, int] = field(default_factory=dict)


def recorded_stale_streams(conn: psycopg.Connection, day: date) -> list[StreamQuality]:
    """The streams the quality gate recorded as stale for ``day`` (in ``meta.source_quality``)."""
    return [StreamQuality(**row) for row in fetch_sql_file(conn, "scoring/recorded_stale_streams.sql", {"day": day})]


def register_version(conn: psycopg.Connection, config: ScorecardsFile, version: str, source_yaml: str) -> bool:
    """Store a scorecard file as rows, once per content hash; True when it was new."""
    inserted = run_sql_file(conn, "scoring/register/scorecard_version.sql", {
        "version": version, "source_yaml": source_yaml, "rollup_method": config.rollup.method,
        "red_below": config.bands.red, "green_from": config.bands.green,
    })
    if not inserted:
        return False
    for position, card in enumerate(config.scorecards):
        bands = card.bands or config.bands
        run_sql_file(conn, "scoring/register/scorecard.sql", {
            "version": version, "scorecard": card.name, "position": position,
            "red_below": bands.red, "green_from": bands.green,
            "min_coverage": card.min_coverage if card.min_coverage is not None else config.min_coverage,
        })
        for kpi, condition in card.segment.items():
            for op, value in condition.tests():
                values = value if isinstance(value, list) else [value]
                run_sql_file(conn, "scoring/register/scorecard_condition.sql", {
                    "version": version, "scorecard": card.name, "field": kpi, "op": op,
                    "text_values": [_text(v) for v in values],
                })
        for group_name, group in card.groups.items():
            for measure_name, m in group.measures.items():
                run_sql_file(conn, "scoring/register/scorecard_measure.sql", {
                    "version": version, "scorecard": card.name, "group_name": group_name,
                    "group_weight": group.weight, "measure": measure_name, "kpi": m.kpi,
                    "stream": numeric_kpis()[m.kpi], "direction": m.direction, "method": m.method,
                    "red": m.red, "green": m.green, "weight": m.weight,
                    "missing_score": None if m.missing == "skip" else m.missing.score,
                })
    run_sql_file(conn, "scoring/register/analyze_scorecard_tables.sql")
    return True


def _text(value) -> str:
    # 100.0 -> "100": numeric conditions compare as numbers either way, text ones exactly.
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# Days per statement when re-scoring a range. Measured at 20,000 accounts and 365 days of history
# (re-scoring 31 days under a candidate): 8-day passes 2.6 s a day, 31-day passes 3.0 s a day (the
# sorts and hashes of a month of account x measure rows outgrow work_mem and the caches). One day
# alone costs ~5 s: the fixed cost of each statement is what passes share.
DAYS_PER_PASS = 8


def score_day(conn: psycopg.Connection, day: date, config: ScorecardsFile, version: str,
              configured: set[str] | None = None, *, gate: bool = True) -> DayScores:
    """Compute (or recompute) one day's scores for one config version, in one transaction.

    ``gate=False`` when the quality gate already ran for the day as its own
    step (the DAG's ``quality_gate`` task): the scoring SQL reads its verdicts
    from ``meta.source_quality`` either way, so only who runs the gate differs.

    Inside a caller's transaction (the review tool scores two versions in one
    that it rolls back) this is a savepoint, so the scoring SQL drops its
    temporary tables itself instead of relying on the commit to drop them.
    ``configured``: the streams sources.yml feeds (read from it when not given).
    """
    return score_days(conn, day, day, config, version, configured, gate=gate)[0]


def score_days(conn: psycopg.Connection, first: date, last: date, config: ScorecardsFile, version: str,
               configured: set[str] | None = None, *, days_per_pass: int = DAYS_PER_PASS,
               gate: bool = True) -> list[DayScores]:
    """Compute (or recompute) the scores of ``first`` .. ``last`` for one version, in one transaction.

    Gate every day first, then score runs of up to ``days_per_pass`` days whose
    feeds are all fresh in one pass each; a day with a stale feed alone, after
    the days before it are written (it carries their last good values).
    What moved each score (``marts.health_score_changes``) is a view over the
    components written here (V095), so every version, a backtest's candidate
    too, is explained without writing a row for it.
    """
    if first > last:
        raise ValueError(f"first day {first} is after last day {last}")
    if configured is None:
        configured = configured_streams()  # None: no sources.yml, every gated stream is judged
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    with conn.transaction():
        # Allowlisted bookkeeping: one scoring of a day at a time.
        for day in days:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('customer_health.score'), %s)", [day.toordinal()])
        run_sql_file(conn, "scoring/delete_day_scores.sql", {"first_day": first, "last_day": last, "version": version})
        # gate=False: the DAG's quality_gate step already judged the days; read its recorded verdicts.
        verdicts = {day: (judge_streams(conn, day, config.quality_gate, configured) if gate
                          else recorded_stale_streams(conn, day)) for day in days}
        kv_columns = _kv_columns(config)
        for run_first, run_last in _passes(days, verdicts, days_per_pass):
            started = time.perf_counter()
            params = {"first_day": run_first, "last_day": run_last, "version": version}
            run_sql_file(conn, "marts/health_scores.sql", params, kv_columns=kv_columns)
            analyze_tables_changed_a_lot(conn, ["marts.health_scores"])  # the days alone were analysed (V100)
            log.info("scored %s .. %s (%d days) with %s in %.2f s", run_first, run_last,
                     (run_last - run_first).days + 1, version, time.perf_counter() - started)
            run_sql_file(conn, "marts/parent_health_scores.sql", params)
        results = []
        for day in days:
            params = {"day": day, "version": version}
            bands = {r["band"]: r["accounts"] for r in fetch_sql_file(conn, "scoring/band_counts.sql", params)}
            results.append(DayScores(day, version, sum(bands.values()), bands,
                                     [v for v in verdicts[day] if v.stale]))
    for result in results:
        log.info("scored %s with %s: %s", result.day, version, result.bands)
    return results


def _kv_columns(config: ScorecardsFile) -> sql.Composable:
    """(field, text, number) per KPI column the scorecards read, for ``{kv_columns}`` of health_scores.sql."""
    fields = sorted({m.kpi for card in config.scorecards for g in card.groups.values() for m in g.measures.values()}
                    | {field for card in config.scorecards for field in card.segment})
    return sql.SQL(", ").join(
        sql.SQL("({}, k.{}::text, {})").format(
            sql.Literal(f), sql.Identifier(f),
            sql.SQL("k.{}::numeric").format(sql.Identifier(f)) if f in numeric_kpis() else sql.SQL("NULL::numeric"))
        for f in fields)


def _passes(days: list[date], verdicts: dict[date, list[StreamQuality]], size: int) -> list[tuple[date, date]]:
    """Consecutive runs of at most ``size`` fresh days; each day with a stale stream a run of its own."""
    stale = {day for day, vs in verdicts.items() if any(v.stale for v in vs)}
    runs: list[list[date]] = []
    for day in days:
        if day in stale or not runs or len(runs[-1]) >= size or runs[-1][-1] in stale:
            runs.append([day])
        else:
            runs[-1].append(day)
    return [(run[0], run[-1]) for run in runs]
