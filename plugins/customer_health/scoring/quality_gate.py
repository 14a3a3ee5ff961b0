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
        (last_loaded,) = conn.execute(
            "SELECT max(finished_at) FROM meta.load_batches WHERE stream = %s", [stream]
        ).fetchone()
        rows_on_day = trailing = None
        reasons = []
        if rule.max_age is not None and (last_loaded is None or last_loaded < end_of_day - rule.max_age):
            reasons.append(
                f"no load since {last_loaded:%Y-%m-%d %H:%M} UTC (allowed age {rule.max_age})" if last_loaded
                else "never loaded"
            )
        if rule.min_volume_ratio is not None and stream in EVENT_TIME:
            # Against the same weekday of the four weeks before: weekends are quiet in B2B.
            rows_on_day, trailing = conn.execute(
                sql.SQL(
                    """SELECT count(*) FILTER (WHERE {t} >= %(start)s),
                              count(*) FILTER (WHERE {t} < %(start)s) / 4.0
                       FROM {table}
                       WHERE {t} >= %(start)s - interval '28 days' AND {t} < %(end)s
                         AND extract(isodow FROM {t} AT TIME ZONE 'UTC') = %(weekday)s"""
                ).format(t=sql.Identifier(EVENT_TIME[stream]), table=sql.Identifier("staging", stream)),
                {"start": end_of_day - timedelta(days=1), "end": end_of_day, "weekday": day.isoweekday()},
            ).fetchone()
            trailing = float(trailing)
            if trailing >= MIN_TRAILING_AVERAGE and rows_on_day < rule.min_volume_ratio * trailing:
                reasons.append(
                    f"{rows_on_day} rows on {day}, under {rule.min_volume_ratio:.0%} of the average {trailing:.0f} "
                    f"of the same weekday in the four weeks before"
                )
        verdict = StreamQuality(stream, bool(reasons), "; ".join(reasons) or None, last_loaded, rows_on_day, trailing)
        conn.execute(
            """INSERT INTO meta.source_quality (day, stream, stale, reason, last_data_at, rows_on_day, rows_trailing_avg)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (day, stream) DO UPDATE SET stale = EXCLUDED.stale, reason = EXCLUDED.reason,
                   last_data_at = EXCLUDED.last_data_at, rows_on_day = EXCLUDED.rows_on_day,
                   rows_trailing_avg = EXCLUDED.rows_trailing_avg, checked_at = now()""",
            [day, stream, verdict.stale, verdict.reason, last_loaded, rows_on_day, trailing],
        )
        verdicts.append(verdict)
    return [v for v in verdicts if v.stale]
