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
from customer_health.warehouse.sqlfiles import run_sql_file

log = logging.getLogger(__name__)

DAY_TABLES = (
    "marts.health_score_changes",
    "marts.parent_health_scores",
    "marts.health_score_components",
    "marts.health_scores",
)


@dataclass
class DayScores:
    day: date
    config_version: str
    accounts: int
    bands: dict[str, int]
    stale_streams: list[StreamQuality]
    quadrants: dict[str, int] = field(default_factory=dict)


def register_version(conn: psycopg.Connection, config: ScorecardsFile, version: str, source_yaml: str) -> bool:
    """Store a scorecard file as rows, once per content hash; True when it was new."""
    inserted = conn.execute(
        """INSERT INTO meta.scorecard_versions (config_version, source_yaml, rollup_method, red_below, green_from)
           VALUES (%s, %s, %s, %s, %s) ON CONFLICT (config_version) DO NOTHING""",
        [version, source_yaml, config.rollup.method, config.bands.red, config.bands.green],
    ).rowcount
    if not inserted:
        return False
    for position, card in enumerate(config.scorecards):
        bands = card.bands or config.bands
        conn.execute(
            "INSERT INTO meta.scorecards VALUES (%s, %s, %s, %s, %s, %s)",
            [version, card.name, position, bands.red, bands.green,
             card.min_coverage if card.min_coverage is not None else config.min_coverage],
        )
        for kpi, condition in card.segment.items():
            for op, value in condition.tests():
                values = value if isinstance(value, list) else [value]
                conn.execute(
                    "INSERT INTO meta.scorecard_conditions VALUES (%s, %s, %s, %s, %s)",
                    [version, card.name, kpi, op, [_text(v) for v in values]],
                )
        for group_name, group in card.groups.items():
            for measure_name, m in group.measures.items():
                conn.execute(
                    """INSERT INTO meta.scorecard_measures
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                    [version, card.name, group_name, group.weight, measure_name, m.kpi, NUMERIC_KPIS[m.kpi],
                     m.direction, m.method, m.red, m.green, m.weight,
                     None if m.missing == "skip" else m.missing.score],
                )
    return True


def _text(value) -> str:
    # 100.0 -> "100": numeric conditions compare as numbers either way, text ones exactly.
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def score_day(conn: psycopg.Connection, day: date, config: ScorecardsFile, version: str) -> DayScores:
    """Compute (or recompute) one day's scores for one config version, in one transaction."""
    params = {"day": day, "version": version}
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('customer_health.score'), %s)", [day.toordinal()])
        for table in DAY_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE day = %(day)s AND config_version = %(version)s", params)  # noqa: S608 - constant names
        stale = run_quality_gate(conn, day, config.quality_gate)
        run_sql_file(conn, "marts/health_scores.sql", params)
        run_sql_file(conn, "marts/health_score_changes.sql", params)
        run_sql_file(conn, "marts/parent_health_scores.sql", params)
        bands = dict(
            conn.execute(
                "SELECT band, count(*) FROM marts.health_scores WHERE day = %(day)s AND config_version = %(version)s GROUP BY band",
                params,
            ).fetchall()
        )
    result = DayScores(day, version, sum(bands.values()), bands, stale)
    log.info("scored %s with %s: %s", day, version, bands)
    return result

