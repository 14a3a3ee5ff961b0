"""The evaluation as the `evaluate_scores` DAG and `python -m customer_health evaluate` run it.

1. Make sure every reference date carries scores of the version judged: a
   missing day is scored now, under the scorecards *registered* for that
   version (``meta.scorecard_versions.source_yaml``, never the YAML on disk),
   after building the KPIs of the days it needs. This is the same as a
   history backfill, so a team can judge its score from the first week on.
2. Evaluate at each horizon and write ``marts.evaluation_*`` in one transaction.
3. Optionally write the static HTML report.
"""
from __future__ import annotations

import logging
import time
from datetime import date
from pathlib import Path

import psycopg
import yaml

from customer_health.config.evaluation import EvaluationFile, load_evaluation
from customer_health.config.kpis import KpisFile, load_kpis
from customer_health.config.scorecards import ScorecardsFile
from customer_health.evaluation.evaluate import Evaluation, data_span, evaluate, frame, live_version, reference_dates
from customer_health.warehouse.db import connect

log = logging.getLogger(__name__)


def run_evaluation(
    warehouse_url: str | None = None,
    *,
    version: str | None = None,
    horizons: list[int] | None = None,
    backfill: bool = True,
    report_path: Path | None = None,
    settings: EvaluationFile | None = None,
) -> list[Evaluation]:
    settings = settings or load_evaluation()
    kpis_config, _ = load_kpis()
    with connect(warehouse_url) as conn:
        version = version or live_version(conn)
        if backfill:
            fill_reference_scores(conn, settings, version, horizons or settings.horizons_days)
        with conn.transaction():
            results = evaluate(conn, settings, kpis_config, version=version, horizons=horizons)
    if report_path is not None:
        from customer_health.evaluation.report import write_report  # noqa: PLC0415 - only when asked

        write_report(results, report_path)
        log.info("evaluation report written to %s", report_path)
    return results


def _version_kpis(conn: psycopg.Connection, version: str) -> tuple[str, KpisFile]:
    """The kpis.yml a scoring version was registered with (``meta.config_versions``), with its
    version; a candidate registered by a backtest is named with the kpis.yml on disk, so that one."""
    from customer_health.config.loader import load_yaml_text  # noqa: PLC0415
    from customer_health.warehouse import config_versions  # noqa: PLC0415

    try:
        kpis_version = (config_versions.registered(conn, "scoring", version)["parts"] or {}).get("kpis")
        row = config_versions.registered(conn, "kpis", kpis_version)
    except config_versions.UnknownConfigVersion:
        config, kpis_version = load_kpis()
        return kpis_version, config
    return kpis_version, load_yaml_text(row["source_yaml"], KpisFile, f"meta.config_versions (kpis {kpis_version})")


def fill_reference_scores(conn: psycopg.Connection, settings: EvaluationFile, version: str, horizons: list[int],
                          *, first: date | None = None, last: date | None = None) -> list[date]:
    """Score the reference dates (inside ``first`` .. ``last`` when given) that have no stored score of
    ``version``; returns the days scored."""
    from customer_health.kpis import rebuild_kpis, settle_rebuilt_tables  # noqa: PLC0415 - heavy, and only for a backfill
    from customer_health.scoring.engine import score_days  # noqa: PLC0415
    from customer_health.scoring.quality_gate import configured_streams  # noqa: PLC0415

    first_day, last_day = data_span(conn)
    window = {"first": first, "last": last}
    wanted = sorted({d for h in horizons for d in reference_dates(first_day, last_day, h, settings, window)})
    scored = set(frame(conn, "evaluation/days_scored.sql", {"config_version": version, "days": wanted})["day"])
    missing = [d for d in wanted if d not in scored]
    if not missing:
        return []
    started = time.monotonic()
    with_kpis = set(frame(conn, "evaluation/days_with_kpis.sql", {"days": missing})["day"])
    kpis_version, kpis_config = _version_kpis(conn, version)
    built_under = set(frame(conn, "evaluation/kpis_versions_on_days.sql",
                            {"config_version": version, "days": missing})["kpis_version"])
    if any(d not in with_kpis for d in missing) or built_under - {kpis_version}:
        # Set-based rebuild from the earliest day needed: equal to the daily incremental build (tested).
        # Days scored under another kpis.yml (a team that just mapped its own event names) hold KPI
        # rows of that definition: scoring this version on them would judge the old one.
        rebuild_kpis(conn, min(missing), last_day, kpis_config)
        conn.commit()
        settle_rebuilt_tables(conn)
    source = frame(conn, "evaluation/version_yaml.sql", {"config_version": version})
    if source.empty:
        raise LookupError(f"Scorecard version {version} is not registered in meta.scorecard_versions.")
    config = ScorecardsFile.model_validate(yaml.safe_load(source["source_yaml"].iloc[0]))
    conn.commit()
    # Runs of consecutive days are scored many days per statement (the same rows as day by day, tested),
    # a month per transaction: a year of 20,000 accounts in minutes.
    streams = configured_streams()
    for run_first, run_last in _consecutive_runs(missing, max_days=31):
        score_days(conn, run_first, run_last, config, version, streams)
        conn.commit()
    log.info("scored %d reference dates of version %s in %.1fs: %s", len(missing), version,
             time.monotonic() - started, ", ".join(map(str, missing)))
    return missing


def _consecutive_runs(days: list[date], *, max_days: int) -> list[tuple[date, date]]:
    """Sorted days as (first, last) runs of consecutive days, at most ``max_days`` long."""
    runs: list[list[date]] = []
    for day in days:
        if runs and (day - runs[-1][-1]).days == 1 and len(runs[-1]) < max_days:
            runs[-1].append(day)
        else:
            runs.append([day])
    return [(run[0], run[-1]) for run in runs]
