"""``include/config/sources.yml``: the manifest of sources, one entry per system.

The generic part (kind, connection, schedule, owner, streams) is checked here;
each kind's own options are checked by that kind's extractor models, so an
error points at the exact key either way.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from croniter import CroniterBadCronError, CroniterBadDateError, croniter
from pydantic import BaseModel, Field, ValidationError, field_validator

from customer_health.config.loader import ConfigError, Strict, explain, load_yaml
from customer_health.contracts.streams import STREAMS
from customer_health.paths import config_dir
from customer_health.sources.registry import extractor_class

NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
DURATION = re.compile(r"^\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>second|minute|hour|day|week)s?\s*$", re.IGNORECASE)

# What Airflow accepts as a DAG's ``schedule`` string besides a cron expression: the presets it
# resolves itself (airflow.sdk.definitions.timetables._cron.CRON_PRESETS) and the two special ones.
SCHEDULE_PRESETS = ("@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly")


def check_schedule(schedule: str | None) -> str | None:
    """A schedule Airflow can run, checked with croniter, the parser Airflow's cron timetables use:
    ``0 25 * * *`` fails here, not when the scheduler parses the DAG."""
    if schedule is None or schedule in SCHEDULE_PRESETS:
        return schedule
    try:
        croniter(schedule)
    except (CroniterBadCronError, CroniterBadDateError, ValueError) as exc:
        raise ValueError(
            f"{schedule!r} is not a valid cron expression ({exc}); allowed: five fields "
            "'minute(0-59) hour(0-23) day-of-month(1-31) month(1-12) day-of-week(0-6)', e.g. '0 2 * * *', "
            f"one of {', '.join(SCHEDULE_PRESETS)}, or null (only when triggered)"
        ) from None
    return schedule


class StreamEntry(Strict):
    """One stream of a source: the kind-specific options, plus the shared checks."""

    options: dict[str, Any] = Field(default_factory=dict)
    freshness_column: str | None = None
    freshness_max_age: timedelta | None = None
    min_rows: int = 0
    lookback: timedelta = timedelta(0)
    """Re-read this much before the stored cursor each run (late-arriving records); keys make the overlap harmless."""
    future_tolerance: timedelta = timedelta(days=1)
    """A record stamped more than this after now is quarantined, and its cursor value never moves the cursor."""

    @field_validator("lookback", "future_tolerance", mode="before")
    @classmethod
    def _spoken_duration(cls, value: Any) -> Any:
        """Also ``6 hours``, ``30 minutes``, ``2 weeks`` (pydantic itself reads ``2 days`` and ISO ``PT6H``)."""
        if isinstance(value, str) and (m := DURATION.match(value)):
            return timedelta(**{m["unit"].lower() + "s": float(m["amount"])})
        return value

    @field_validator("lookback", "future_tolerance")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative (e.g. 6 hours, 2 days)")
        return value


class SourceEntry(Strict):
    kind: str
    description: str = ""
    owner: str = "data-engineering"
    conn_id: str | None = None
    schedule: str | None = "@daily"
    keep_raw: bool = True
    options: dict[str, Any] = Field(default_factory=dict)
    streams: dict[str, dict[str, Any]]

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, schedule: str | None) -> str | None:
        return check_schedule(schedule)

    @field_validator("streams")
    @classmethod
    def _known_streams(cls, streams: dict) -> dict:
        for name in streams:
            if name not in STREAMS:
                raise ValueError(f"unknown stream {name!r}; allowed: {', '.join(sorted(STREAMS))}")
        if not streams:
            raise ValueError("a source needs at least one stream")
        return streams


class SourcesFile(Strict):
    sources: dict[str, SourceEntry]

    @field_validator("sources")
    @classmethod
    def _names(cls, sources: dict) -> dict:
        for name in sources:
            if not NAME.match(name):
                raise ValueError(f"source name {name!r} must match {NAME.pattern}")
        return sources


SHARED_STREAM_KEYS = {"freshness_column", "freshness_max_age", "min_rows", "lookback", "future_tolerance"}


def sources_path() -> Path:
    return config_dir() / "sources.yml"


def load_sources(path: Path | None = None) -> dict[str, "ConfiguredSource"]:
    """Validate the whole manifest, including each kind's own options."""
    path = path or sources_path()
    manifest = load_yaml(path, SourcesFile)
    configured: dict[str, ConfiguredSource] = {}
    problems: list[str] = []
    for name, entry in manifest.sources.items():
        try:
            cls = extractor_class(entry.kind)
        except KeyError as exc:
            problems.append(f"sources.{name}.kind: {exc.args[0]}")
            continue
        try:
            options = cls.SourceOptions.model_validate(entry.options)
        except ValidationError as exc:
            problems.extend(explain(path, exc, f"sources.{name}.options").problems)
            continue
        if cls.needs_connection and not entry.conn_id:
            problems.append(f"sources.{name}.conn_id: kind {entry.kind!r} reads through an Airflow connection; name it")
        streams = {}
        for stream_name, raw in entry.streams.items():
            raw = raw or {}
            shared = {k: v for k, v in raw.items() if k in SHARED_STREAM_KEYS}
            own = {k: v for k, v in raw.items() if k not in SHARED_STREAM_KEYS}
            prefix = f"sources.{name}.streams.{stream_name}"
            try:
                checks = StreamEntry.model_validate(shared)
                stream_options = cls.StreamOptions.model_validate(own)
            except ValidationError as exc:
                problems.extend(explain(path, exc, prefix).problems)
                continue
            if checks.freshness_column and checks.freshness_column not in STREAMS[stream_name].columns:
                problems.append(
                    f"{prefix}.freshness_column: {checks.freshness_column!r} is not a column of {stream_name}; "
                    f"allowed: {', '.join(STREAMS[stream_name].columns)}"
                )
            problems.extend(f"{prefix}.{where}: {message}"
                            for where, message in cls.check_stream_options(STREAMS[stream_name], stream_options))
            if checks.lookback and not cls.cursor_is_time:
                problems.append(f"{prefix}.lookback: kind {entry.kind!r} has no time cursor to look back from "
                                "(its files are known by name and content); remove the key")
            streams[stream_name] = ConfiguredStream(stream_name, stream_options, checks)
        configured[name] = ConfiguredSource(name, entry, options, streams)
    if problems:
        raise ConfigError(path, problems)
    return configured


class ConfiguredStream:
    def __init__(self, name: str, options: BaseModel, checks: StreamEntry):
        self.name = name
        self.options = options
        self.checks = checks

    @property
    def stream(self):
        return STREAMS[self.name]


class ConfiguredSource:
    """A validated manifest entry with its kind's typed options."""

    def __init__(self, name: str, entry: SourceEntry, options: BaseModel, streams: dict[str, ConfiguredStream]):
        self.name = name
        self.entry = entry
        self.options = options
        self.streams = streams

    @property
    def kind(self) -> str:
        return self.entry.kind
