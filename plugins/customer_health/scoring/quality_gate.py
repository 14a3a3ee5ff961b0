"""The data-quality gate that runs before scoring.

A feed that broke (no load for too long, or a day with far fewer rows than
usual) must not make scores fall: its streams are marked stale for the day in
``meta.source_quality``, and the scoring SQL then carries the affected
measures' last good values instead of reading the broken data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import psycopg
from psycopg import sql

from customer_health.warehouse.sqlfiles import fetch_one_sql_file, run_sql_file

# Streams whose rows carry an event time, so daily volume means something.
EVENT_TIME = {"usage_events": "occurred_at", "survey_responses": "submitted_at", "crm_sentiment": "recorded_at"}
MIN_TRAILING_AVERAGE = 20  # below this a "drop" is noise, not a broken feed


@dataclass
class StreamQuality:
    stream: str
    stale: bool
    reason: str | None
    last_data_at: datetime | None
    rows_on_day: int | None
    rows_trailing_avg: float | None


def run_quality_gate(conn: psycopg.Connection, day: date, rules: dict) -> list[StreamQuality]:
    """Judge each gated stream for ``day``, record it, and return the stale ones."""
    end_of_day = datetime.combine(day + timedelta(days=1), time(), tzinfo=timezone.utc)
    verdicts = []
    for stream, rule in rules.items():
        last_loaded = fetch_one_sql_file(conn, "scoring/quality_gate/last_load.sql", {"stream": stream})["last_loaded"]
        rows_on_day = trailing = None
        reasons = []
        if rule.max_age is not None and (last_loaded is None or last_loaded < end_of_day - rule.max_age):
            reasons.append(
                f"no load since {last_loaded:%Y-%m-%d %H:%M} UTC (allowed age {rule.max_age})" if last_loaded
                else "never loaded"
            )
        if rule.min_volume_ratio is not None and stream in EVENT_TIME:
            volume = fetch_one_sql_file(
                conn, "scoring/quality_gate/day_volume.sql",
                {"start": end_of_day - timedelta(days=1), "end": end_of_day, "weekday": day.isoweekday()},
                table=sql.Identifier("staging", stream), event_time=sql.Identifier(EVENT_TIME[stream]),
            )
            rows_on_day, trailing = volume["rows_on_day"], float(volume["rows_trailing_avg"])
            if trailing >= MIN_TRAILING_AVERAGE and rows_on_day < rule.min_volume_ratio * trailing:
                reasons.append(
                    f"{rows_on_day} rows on {day}, under {rule.min_volume_ratio:.0%} of the average {trailing:.0f} "
                    f"of the same weekday in the four weeks before"
                )
        verdict = StreamQuality(stream, bool(reasons), "; ".join(reasons) or None, last_loaded, rows_on_day, trailing)
        run_sql_file(conn, "scoring/quality_gate/record_verdict.sql", {
            "day": day, "stream": stream, "stale": verdict.stale, "reason": verdict.reason,
            "last_data_at": last_loaded, "rows_on_day": rows_on_day, "rows_trailing_avg": trailing,
        })
        verdicts.append(verdict)
    return [v for v in verdicts if v.stale]
