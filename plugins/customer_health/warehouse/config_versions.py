"""Config versions in the warehouse: recorded once when a DAG's first step registers them, read after.

Each config file (scorecards, kpis, cmi, playbooks) is stored in
``meta.config_versions`` by content hash with its text, and so is the scoring
version stamped on health scores (scorecards.yml and kpis.yml together, with
both parts). Later steps and DAGs take a version from the warehouse (the run
that scored, ``meta.scoring_runs``) and parse the text stored with it, never the
file again: editing a YAML file between two runs cannot make the second read
a different config from the one that made the data it reads.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from customer_health.warehouse.sqlfiles import fetch_sql_file, run_sql_file


class UnknownConfigVersion(LookupError):
    """A version a step was handed is not in meta.config_versions (the first step did not register it)."""


@dataclass(frozen=True)
class ScoringRun:
    """A finished build_health_scores run: the day it scored last and the versions it scored under."""

    day: date
    scoring_version: str
    cmi_version: str
    finished_at: datetime


def register(conn: psycopg.Connection, kind: str, version: str, source_yaml: str | None,
             parts: dict[str, str] | None = None) -> None:
    run_sql_file(conn, "meta/register_config_version.sql", {
        "kind": kind, "version": version, "parts": json.dumps(parts or {}, sort_keys=True), "source_yaml": source_yaml,
    })


def registered(conn: psycopg.Connection, kind: str, version: str) -> dict:
    """The row of a recorded version (kind, version, parts, source_yaml, registered_at)."""
    rows = fetch_sql_file(conn, "meta/config_version.sql", {"kind": kind, "version": version})
    if not rows:
        raise UnknownConfigVersion(
            f"{kind} version {version} is not in meta.config_versions: run the DAG's validate_config step first"
        )
    return rows[0]


def record_scoring_run(conn: psycopg.Connection, day: date, scoring_version: str, cmi_version: str, days_scored: int) -> None:
    run_sql_file(conn, "meta/record_scoring_run.sql", {
        "day": day, "scoring_version": scoring_version, "cmi_version": cmi_version, "days_scored": days_scored,
    })


def latest_scoring_run(conn: psycopg.Connection, day: date | None = None) -> ScoringRun | None:
    """The latest finished scoring run (of ``day``, when given); None when nothing has been scored."""
    rows = fetch_sql_file(conn, "meta/latest_scoring_run.sql", {"day": day})
    return ScoringRun(**rows[0]) if rows else None
