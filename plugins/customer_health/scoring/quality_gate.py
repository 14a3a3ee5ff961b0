"""The data-quality gate that runs before scoring.

A feed that broke (no load for too long, nothing new in its data for too long,
or a day with far fewer rows than usual) must not make scores fall: its
streams are marked stale for the day in ``meta.source_quality``, and the
scoring SQL then carries the affected measures' last good values instead of
reading the broken data.

Two clocks, because either alone lies. Load time alone calls every feed fresh
when a day is scored long after its last event (a loader that runs every
night but brings nothing new, or history scored two years on); data time
alone cannot see a feed that stopped loading when the product was quiet
anyway. So an event stream must have loaded within ``max_age`` of the day's
end *and* hold an event within ``max_age`` before it. Snapshot streams (CRM
accounts, contracts) carry no event time and are judged by their loads.

A stream that no source in ``sources.yml`` feeds (a team without surveys) is
absent, not stale: its measures are missing (skipped or scored as configured),
and the verdict says so instead of raising a stale feed every day.

Everything the gate reads is bounded by the day, never by the history: the
newest event is one probe down the event-time index, and the usage volume
comes from the per-day rollups the KPI build wrote just before.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import psycopg
from psycopg import sql

from customer_health.warehouse.sqlfiles import fetch_one_sql_file, run_sql_file

# Streams whose rows carry an event time, so daily volume and data age mean something.
EVENT_TIME = {"usage_events": "occurred_at", "survey_responses": "submitted_at", "crm_sentiment": "recorded_at"}
# Streams whose per-day counts the KPI build keeps (intermediate.account_day_activity).
ROLLED_UP = {"usage_events"}
MIN_TRAILING_AVERAGE = 20  # below this a "drop" is noise, not a broken feed


@dataclass
class StreamQuality:
    stream: str
    stale: bool
    reason: str | None
    last_data_at: datetime | None
    rows_on_day: int | None
    rows_trailing_avg: float | None
    last_loaded_at: datetime | None = None
    absent: bool = False


def configured_streams() -> set[str] | None:
    """The streams some source in ``sources.yml`` feeds (validated as the ingest DAGs read it).

    None when the config directory has no sources.yml (a scoring-only checkout, the
    review tool on a copied config): then nothing is known absent and every gated stream is judged.
    """
    from customer_health.config.sources import load_sources, sources_path  # noqa: PLC0415 - imports every kind

    if not sources_path().is_file():
        return None
    return {stream for source in load_sources().values() for stream in source.streams}


def run_quality_gate(conn: psycopg.Connection, day: date, rules: dict,
                     configured: set[str] | None = None) -> list[StreamQuality]:
    """Judge each gated stream for ``day``, record it, and return the stale ones.

    ``configured``: the streams sources.yml feeds (read from it when not given);
    a gated stream outside it is recorded as absent, never stale.
    """
    return [v for v in judge_streams(conn, day, rules, configured) if v.stale]


def judge_streams(conn: psycopg.Connection, day: date, rules: dict,
                  configured: set[str] | None = None) -> list[StreamQuality]:
    """Every gated stream's verdict for ``day`` (recorded in ``meta.source_quality``)."""
    if configured is None:
        configured = configured_streams()
    end_of_day = datetime.combine(day + timedelta(days=1), time(), tzinfo=timezone.utc)
    verdicts = []
    for stream, rule in rules.items():
        verdict = _judge(conn, day, end_of_day, stream, rule, configured is None or stream in configured)
        run_sql_file(conn, "scoring/quality_gate/record_verdict.sql", {
            "day": day, "stream": stream, "stale": verdict.stale, "reason": verdict.reason,
            "last_data_at": verdict.last_data_at, "last_loaded_at": verdict.last_loaded_at,
            "rows_on_day": verdict.rows_on_day, "rows_trailing_avg": verdict.rows_trailing_avg,
        })
        verdicts.append(verdict)
    return verdicts


def _judge(conn, day: date, end_of_day: datetime, stream: str, rule, is_configured: bool) -> StreamQuality:
    if not is_configured:
        return StreamQuality(stream, False, f"absent: no source in sources.yml feeds {stream}; its measures are "
                             "missing, not stale", None, None, None, absent=True)
    last_loaded = fetch_one_sql_file(conn, "scoring/quality_gate/last_load.sql", {"stream": stream})["last_loaded"]
    last_data = rows_on_day = trailing = None
    reasons = []
    if rule.max_age is not None:
        oldest_fresh = end_of_day - rule.max_age
        if last_loaded is None or last_loaded < oldest_fresh:
            reasons.append(
                f"no load since {last_loaded:%Y-%m-%d %H:%M} UTC (allowed age {rule.max_age})" if last_loaded
                else "never loaded"
            )
        if stream in EVENT_TIME and last_loaded is not None:
            found = fetch_one_sql_file(conn, "scoring/quality_gate/last_data_at.sql", {"end": end_of_day},
                                       **_stream_parts(stream))
            last_data = found["last_data_at"]
            # An empty stream has no time of its own to judge: its loads (above) and volume (below) speak.
            if found["has_rows"] and (last_data is None or last_data < oldest_fresh):
                reasons.append(
                    f"newest {stream} row is from {last_data:%Y-%m-%d %H:%M} UTC, {_age(end_of_day - last_data)} "
                    f"before the end of {day} (allowed age {rule.max_age})" if last_data
                    else f"no {stream} row before the end of {day}"
                )
    if rule.min_volume_ratio is not None and stream in EVENT_TIME:
        if stream in ROLLED_UP:
            volume = fetch_one_sql_file(conn, "scoring/quality_gate/day_volume_rollups.sql", {"day": day})
        else:
            volume = fetch_one_sql_file(
                conn, "scoring/quality_gate/day_volume.sql",
                {"start": end_of_day - timedelta(days=1), "end": end_of_day, "weekday": day.isoweekday()},
                **_stream_parts(stream),
            )
        rows_on_day, trailing = int(volume["rows_on_day"]), float(volume["rows_trailing_avg"])
        if trailing >= MIN_TRAILING_AVERAGE and rows_on_day < rule.min_volume_ratio * trailing:
            reasons.append(
                f"{rows_on_day} rows on {day}, under {rule.min_volume_ratio:.0%} of the average {trailing:.0f} "
                f"of the same weekday in the four weeks before"
            )
    return StreamQuality(stream, bool(reasons), "; ".join(reasons) or None, last_data, rows_on_day, trailing,
                         last_loaded)


def _stream_parts(stream: str) -> dict[str, sql.Composable]:
    return {"table": sql.Identifier("staging", stream), "event_time": sql.Identifier(EVENT_TIME[stream])}


def _age(delta: timedelta) -> str:
    return f"{delta.days} days" if delta.days >= 2 else f"{delta.total_seconds() / 3600:.0f} hours"
