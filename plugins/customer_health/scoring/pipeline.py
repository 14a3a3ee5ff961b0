"""The daily scoring steps as the DAG and the CLI run them: register configs, accounts, KPIs, scores, CMI, quadrants.

``register_configs`` is the first step: it validates scorecards.yml, kpis.yml
and cmi.yml, records each in ``meta.config_versions`` with its text, and
records the scoring version stamped on scores (scorecards.yml and kpis.yml
together: a changed KPI definition is a new version). Every later step takes
those versions and parses the text stored with them, not the files, so all
steps of a run use one config even if a file is edited while it runs.

``build_accounts`` writes the day's version of ``marts.accounts``;
``build_and_score`` the KPIs and scores of ``day`` (and of ``history_days``
before it, recomputed set-based and scored in order), then CMI and quadrants,
and records the run in ``meta.scoring_runs``, where ``create_csm_tasks``
finds which versions to read.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import psycopg

from customer_health.config.cmi import CmiFile, cmi_path
from customer_health.config.kpis import KpisFile, kpis_path
from customer_health.config.loader import load_yaml_text, read_config
from customer_health.config.scorecards import ScorecardsFile, scorecards_path
from customer_health.contracts.versions import scoring_version
from customer_health.scoring.engine import DayScores, register_version, score_day
from customer_health.scoring.maturity import assign_quadrants, score_cmi
from customer_health.warehouse import config_versions
from customer_health.warehouse.db import connect
from customer_health.warehouse.sqlfiles import fetch_one_sql_file, run_sql_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoringVersions:
    """The versions one scoring run uses; ``scoring`` is the one stamped on its scores."""

    scoring: str
    scorecards: str
    kpis: str
    cmi: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def register_configs(warehouse_url: str | None = None) -> ScoringVersions:
    """Validate the scoring configs and record them in the warehouse; a broken file fails here."""
    scorecards, scorecards_v, scorecards_text = read_config(scorecards_path(), ScorecardsFile)
    _, kpis_v, kpis_text = read_config(kpis_path(), KpisFile)
    _, cmi_v, cmi_text = read_config(cmi_path(), CmiFile)
    versions = ScoringVersions(scoring_version(scorecards_v, kpis_v), scorecards_v, kpis_v, cmi_v)
    with connect(warehouse_url) as conn, conn.transaction():
        config_versions.register(conn, "scorecards", scorecards_v, scorecards_text)
        config_versions.register(conn, "kpis", kpis_v, kpis_text)
        config_versions.register(conn, "cmi", cmi_v, cmi_text)
        config_versions.register(conn, "scoring", versions.scoring, None,
                                 parts={"scorecards": scorecards_v, "kpis": kpis_v})
        if register_version(conn, scorecards, versions.scoring, scorecards_text):
            log.info("new scoring version %s (scorecards %s, kpis %s) registered", versions.scoring, scorecards_v, kpis_v)
        run_sql_file(conn, "meta/mark_scorecard_version_live.sql", {"config_version": versions.scoring})
    return versions


def registered_config(conn: psycopg.Connection, kind: str, version: str, model):
    """The config a version was registered with, parsed from the text stored in the warehouse."""
    row = config_versions.registered(conn, kind, version)
    return load_yaml_text(row["source_yaml"], model, f"meta.config_versions ({kind} {version})")


def build_accounts(day: date, warehouse_url: str | None = None) -> int:
    """Write the CRM as staging holds it now into ``marts.accounts`` as of ``day``; returns current accounts."""
    with connect(warehouse_url) as conn:
        with conn.transaction():
            run_sql_file(conn, "marts/accounts.sql", {"day": day})
        current = fetch_one_sql_file(conn, "marts/accounts_current_count.sql")["current"]
    log.info("marts.accounts as of %s: %d current accounts", day, current)
    return current


def build_and_score(day: date, history_days: int = 0, warehouse_url: str | None = None,
                    versions: ScoringVersions | None = None) -> list[DayScores]:
    """KPIs, scores, CMI and quadrants of ``day`` (and ``history_days`` before it).

    Without ``versions`` (the CLI) the configs are registered and the accounts
    built first; the DAG runs those as their own steps and passes the versions.
    """
    from customer_health.kpis import build_kpis, rebuild_kpis  # noqa: PLC0415 - keeps DAG parsing light

    if versions is None:
        versions = register_configs(warehouse_url)
        build_accounts(day, warehouse_url)
    start = day - timedelta(days=history_days)
    with connect(warehouse_url) as conn:
        config = registered_config(conn, "scorecards", versions.scorecards, ScorecardsFile)
        kpis_config = registered_config(conn, "kpis", versions.kpis, KpisFile)
        cmi_config = registered_config(conn, "cmi", versions.cmi, CmiFile)
        if history_days:
            rebuild_kpis(conn, start, day, kpis_config)
        else:
            build_kpis(conn, day, kpis_config)
        conn.commit()
        # Churned accounts are not scored after their churn date: the outcomes the CRM contracts
        # (and any churn_events) tell as of the day come first.
        from customer_health.config.evaluation import load_evaluation  # noqa: PLC0415
        from customer_health.evaluation.evaluate import build_outcomes  # noqa: PLC0415

        with conn.transaction():
            churns = build_outcomes(conn, load_evaluation(), day)
        log.info("outcomes as of %s: %d churns known", day, churns)
        results = []
        for offset in range(history_days + 1):
            results.append(score_day(conn, start + timedelta(days=offset), config, versions.scoring))
        score_cmi(conn, cmi_config, versions.cmi)
        for result in results:
            result.quadrants = assign_quadrants(conn, result.day, cmi_config, versions.cmi, versions.scoring)
        with conn.transaction():
            config_versions.record_scoring_run(conn, day, versions.scoring, versions.cmi, history_days + 1)
        return results
