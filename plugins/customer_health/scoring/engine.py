"""Score one day: register the scorecard version, gate stale sources, compute, explain, roll up.

The arithmetic lives in ``include/sql/marts/health_*.sql`` as set-based SQL
over the scorecards stored as rows (``meta.scorecard_*``), so Python only
moves config into tables and runs the files in order. Each day is one
transaction: rerunning a day replaces exactly that day's rows for that
config version and nothing else; other versions' rows are never touched.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import psycopg

from customer_health.config.scorecards import ScorecardsFile
from customer_health.contracts.kpi_catalog import NUMERIC_KPIS
from customer_health.scoring.quality_gate import StreamQuality, run_quality_gate
from customer_health.warehouse.sqlfiles import fetch_sql_file, run_sql_file

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
                    "stream": NUMERIC_KPIS[m.kpi], "direction": m.direction, "method": m.method,
                    "red": m.red, "green": m.green, "weight": m.weight,
                    "missing_score": None if m.missing == "skip" else m.missing.score,
                })
    run_sql_file(conn, "scoring/register/analyze_scorecard_tables.sql")
    return True


def _text(value) -> str:
    # 100.0 -> "100": numeric conditions compare as numbers either way, text ones exactly.
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def score_day(conn: psycopg.Connection, day: date, config: ScorecardsFile, version: str, *,
              gate: bool = True) -> DayScores:
    """Compute (or recompute) one day's scores for one config version, in one transaction.

    ``gate=False`` when the quality gate already ran for the day as its own
    step (the DAG's ``quality_gate`` task): the scoring SQL reads its verdicts
    from ``meta.source_quality`` either way, so only who runs the gate differs.

    Inside a caller's transaction (the review tool scores two versions in one
    that it rolls back) this is a savepoint, so the scoring SQL drops its
    temporary tables itself instead of relying on the commit to drop them.
    """
    params = {"day": day, "version": version}
    with conn.transaction():
        # Allowlisted bookkeeping: one scoring of a day at a time.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('customer_health.score'), %s)", [day.toordinal()])
        run_sql_file(conn, "scoring/delete_day_scores.sql", params)
        stale = run_quality_gate(conn, day, config.quality_gate) if gate else recorded_stale_streams(conn, day)
        run_sql_file(conn, "marts/health_scores.sql", params)
        run_sql_file(conn, "marts/health_score_changes.sql", params)
        run_sql_file(conn, "marts/parent_health_scores.sql", params)
        bands = {r["band"]: r["accounts"] for r in fetch_sql_file(conn, "scoring/band_counts.sql", params)}
    result = DayScores(day, version, sum(bands.values()), bands, stale)
    log.info("scored %s with %s: %s", day, version, bands)
    return result

