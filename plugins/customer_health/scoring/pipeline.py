"""The daily scoring steps as the DAG and the CLI run them, one function per step.

validate_config -> build_accounts -> build_kpis -> quality_gate -> score -> cmi -> quadrants
(the DAG adds its checks). Each step is one transaction on its own connection:
it commits all it writes or nothing, and running it again replaces exactly
what it wrote. So the DAG retries a failed step alone (a failure in the
quadrants does not rebuild the KPIs), and ``build_and_score`` (the CLI's
``score``) is the same functions in order.

``register_configs`` is the first step: it validates scorecards.yml, kpis.yml
and cmi.yml, records each in ``meta.config_versions`` with its text, and
records the scoring version stamped on scores (scorecards.yml and kpis.yml
together: a changed KPI definition is a new version). Every later step takes
those versions and parses the text stored with them, not the files, so all
steps of a run use one config even if a file is edited while it runs.

Every step logs at INFO what it did: the days, the rows, the seconds; a step
over many days (``history_days``) logs each day as it goes.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import psycopg

from customer_health.config.cmi import CmiFile, cmi_path
from customer_health.config.kpis import KpisFile, kpis_path
from customer_health.config.loader import load_yaml_text, read_config
from customer_health.config.scorecards import ScorecardsFile, scorecards_path
from customer_health.contracts.versions import scoring_version
from customer_health.scoring.engine import DayScores, register_version, score_days
from customer_health.scoring.maturity import assign_quadrants, score_cmi
from customer_health.scoring.quality_gate import run_quality_gate
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


def days_of(day: date, history_days: int = 0) -> list[date]:
    """The days a run covers, oldest first: ``day`` and the ``history_days`` before it."""
    return [day - timedelta(days=offset) for offset in range(history_days, -1, -1)]


@dataclass
class StepResult:
    """What one step did, for its log line and the DAG's XCom."""

    step: str
    days: list[date]
    rows: int
    seconds: float
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"step": self.step, "first_day": self.days[0].isoformat(), "day": self.days[-1].isoformat(),
                "days": len(self.days), "rows": self.rows, "seconds": round(self.seconds, 2), **self.detail}

    def log(self, what: str) -> StepResult:
        span = f"{self.days[0]}" if len(self.days) == 1 else f"{self.days[0]} .. {self.days[-1]} ({len(self.days)} days)"
        log.info("%s: %s %s, %d rows in %.2f s", self.step, what, span, self.rows, self.seconds)
        return self


def build_accounts(day: date, warehouse_url: str | None = None) -> int:
    """Write the CRM as staging holds it now into ``marts.accounts`` as of ``day``; returns current accounts."""
    started = time.perf_counter()
    with connect(warehouse_url) as conn:
        with conn.transaction():
            run_sql_file(conn, "marts/accounts.sql", {"day": day})
        current = fetch_one_sql_file(conn, "marts/accounts_current_count.sql")["current"]
    StepResult("build_accounts", [day], current, time.perf_counter() - started).log("marts.accounts as of")
    return current


def build_kpis(day: date, history_days: int, versions: ScoringVersions, warehouse_url: str | None = None) -> StepResult:
    """``marts.account_daily_kpis`` of the run's days (and the daily rollups they need), one transaction."""
    from customer_health.kpis import build_kpis as build_day  # noqa: PLC0415 - keeps DAG parsing light
    from customer_health.kpis import rebuild_kpis, settle_rebuilt_tables  # noqa: PLC0415

    started = time.perf_counter()
    days = days_of(day, history_days)
    with connect(warehouse_url) as conn:
        _say_if_nothing_new(conn, day, versions)
        kpis_config = registered_config(conn, "kpis", versions.kpis, KpisFile)
        with conn.transaction():
            rows = rebuild_kpis(conn, days[0], day, kpis_config) if history_days else build_day(conn, day, kpis_config)
        if history_days:  # a rebuild rewrote the rollups and the mart whole: settle them for the daily runs
            conn.commit()
            settle_rebuilt_tables(conn)
    if not rows:
        log.info("build_kpis: no account has KPIs on %s: nothing to score (no CRM accounts loaded yet?)", day)
    return StepResult("build_kpis", days, rows, time.perf_counter() - started).log("KPI rows of")


def quality_gate(day: date, history_days: int, versions: ScoringVersions, warehouse_url: str | None = None) -> StepResult:
    """Judge every gated feed for each day (``meta.source_quality``), one transaction; stale feeds are logged."""
    started = time.perf_counter()
    days = days_of(day, history_days)
    stale_by_day = {}
    with connect(warehouse_url) as conn, conn.transaction():
        config = registered_config(conn, "scorecards", versions.scorecards, ScorecardsFile)
        for scored_day in days:
            stale = run_quality_gate(conn, scored_day, config.quality_gate)
            for verdict in stale:
                log.warning("quality_gate: %s is stale on %s: %s (its measures carry their last good value)",
                            verdict.stream, scored_day, verdict.reason)
            if stale:
                stale_by_day[scored_day.isoformat()] = [f"{v.stream}: {v.reason}" for v in stale]
    result = StepResult("quality_gate", days, len(days) * len(config.quality_gate), time.perf_counter() - started,
                        {"stale": stale_by_day})
    return result.log(f"{len(config.quality_gate)} feeds judged, {sum(map(len, stale_by_day.values()))} stale, for")


def score(day: date, history_days: int, versions: ScoringVersions, warehouse_url: str | None = None) -> list[DayScores]:
    """Outcomes as of ``day`` (churned accounts are not scored after their churn), then the scores,
    explanations, changes and parent roll-ups of each day in order: one transaction."""
    from customer_health.config.evaluation import load_evaluation  # noqa: PLC0415
    from customer_health.evaluation.outcomes import build_outcomes  # noqa: PLC0415

    started = time.perf_counter()
    days = days_of(day, history_days)
    with connect(warehouse_url) as conn, conn.transaction():
        config = registered_config(conn, "scorecards", versions.scorecards, ScorecardsFile)
        churns = build_outcomes(conn, load_evaluation(), day)
        log.info("score: outcomes as of %s: %d churns known", day, churns)
        # Many days per statement (runs of fresh days; engine.score_days logs each pass as progress).
        results = score_days(conn, days[0], days[-1], config, versions.scoring, gate=False)
    StepResult("score", days, sum(r.accounts for r in results), time.perf_counter() - started).log("account scores of")
    return results


def cmi(versions: ScoringVersions, warehouse_url: str | None = None) -> int:
    """The Customer Maturity Index of every assessment under the run's cmi.yml, one transaction."""
    started = time.perf_counter()
    with connect(warehouse_url) as conn:
        cmi_config = registered_config(conn, "cmi", versions.cmi, CmiFile)
        assessments = score_cmi(conn, cmi_config, versions.cmi)
    log.info("cmi: %d assessments scored under cmi %s in %.2f s", assessments, versions.cmi, time.perf_counter() - started)
    return assessments


def quadrants(day: date, history_days: int, versions: ScoringVersions,
              warehouse_url: str | None = None) -> dict[date, dict[str, int]]:
    """The health x maturity quadrant of every account for each day, and the run recorded in
    ``meta.scoring_runs`` (where create_csm_tasks finds its versions): one transaction."""
    started = time.perf_counter()
    days = days_of(day, history_days)
    by_day = {}
    with connect(warehouse_url) as conn, conn.transaction():
        cmi_config = registered_config(conn, "cmi", versions.cmi, CmiFile)
        for quadrant_day in days:
            by_day[quadrant_day] = assign_quadrants(conn, quadrant_day, cmi_config, versions.cmi, versions.scoring)
        config_versions.record_scoring_run(conn, day, versions.scoring, versions.cmi, len(days))
    StepResult("quadrants", days, sum(sum(q.values()) for q in by_day.values()),
               time.perf_counter() - started).log(f"{by_day[day]} on {day}; account quadrants of")
    return by_day


def _say_if_nothing_new(conn: psycopg.Connection, day: date, versions: ScoringVersions) -> None:
    """Log, at the start of a run, whether any load changed staging since this day was last scored
    (a rerun of the ingest DAGs commits batches of unchanged rows: that is nothing new)."""
    last = config_versions.latest_scoring_run(conn, day)
    if last is None:
        log.info("%s has not been scored before", day)
        return
    loads = fetch_one_sql_file(conn, "meta/loads_since.sql", {"since": last.finished_at})
    same = last.scoring_version == versions.scoring and last.cmi_version == versions.cmi
    if loads["rows_changed"] == 0 and same:
        log.info("nothing new since %s was scored at %s under the same versions: %d loads since, none changed "
                 "a row, so this run recomputes the same scores", day, f"{last.finished_at:%Y-%m-%d %H:%M:%S %Z}",
                 loads["loads"])
    else:
        log.info("%s was scored at %s; since then: %d loads (%d rows changed)%s", day,
                 f"{last.finished_at:%Y-%m-%d %H:%M:%S %Z}", loads["loads"], loads["rows_changed"],
                 "" if same else ", and the config versions changed")


def build_and_score(day: date, history_days: int = 0, warehouse_url: str | None = None,
                    versions: ScoringVersions | None = None) -> list[DayScores]:
    """Every step after validate_config in the DAG's order (the CLI's ``score``): KPIs, gate, scores, CMI,
    quadrants of ``day`` and the ``history_days`` before it.

    Without ``versions`` the configs are registered and the accounts built first, as the DAG does.
    """
    if versions is None:
        versions = register_configs(warehouse_url)
        build_accounts(day, warehouse_url)
    build_kpis(day, history_days, versions, warehouse_url)
    quality_gate(day, history_days, versions, warehouse_url)
    results = score(day, history_days, versions, warehouse_url)
    cmi(versions, warehouse_url)
    by_day = quadrants(day, history_days, versions, warehouse_url)
    for result in results:
        result.quadrants = by_day[result.day]
    return results


def scores_in(day: date, warehouse_url: str | None = None) -> config_versions.ScoringRun | None:
    """The latest finished scoring run that covered ``day`` (its quadrants committed), or None: not in yet."""
    with connect(warehouse_url) as conn:
        return config_versions.latest_scoring_run(conn, day)


def latest_scoring_run(warehouse_url: str | None = None) -> config_versions.ScoringRun | None:
    """The latest finished scoring run of any day, to say in an alert how far behind the scores are."""
    with connect(warehouse_url) as conn:
        return config_versions.latest_scoring_run(conn)
