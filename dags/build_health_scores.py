"""
### Build health scores

Runs as soon as every staging table of `sources.yml` has been loaded since the
last run (the staging Assets), and at `scoring_fallback_at` (UTC, in
`include/config/operations.yml`) in any case. Each box of the graph is one
step and one transaction: a failed step is retried (or cleared) alone, and
rerunning a step replaces exactly what it wrote.

validate_config -> build_accounts -> build_kpis -> quality_gate -> score -> cmi -> quadrants -> check_source_freshness

Each task's own doc (Task Instance -> Task Docs) says what it writes, what a
failure there means and whether it is safe to clear. Every step logs at INFO
what it did: the days, the rows and the seconds; with `history_days` it logs
each day as it goes. A run that finds nothing loaded since the day was last
scored says so in the `build_kpis` log and succeeds with the same scores.

The day scored is the day before the run date, or the `day` param; set
`history_days` to recompute a window (first run, backfill). Rerunning a day
replaces that day's rows for the current config version only; scores made
by earlier versions of the scorecards are never rewritten.

`check_scores_on_time` alerts when the day's scores are not in by
`scores_due_by` (`include/config/operations.yml`).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from airflow.providers.common.sql.operators.sql import SQLCheckOperator
from airflow.sdk import DAG, AssetOrTimeSchedule, CronTriggerTimetable, Param, task

from customer_health.alerts import alert_on_failure
from customer_health.assets import ACCOUNT_DAILY_KPIS, ACCOUNT_QUADRANTS, HEALTH_SCORES, staging_assets
from customer_health.config import ConfigError
from customer_health.config.operations import OperationsFile, load_operations
from customer_health.config.sources import load_sources
from customer_health.paths import sql_dir
from customer_health.warehouse.db import WAREHOUSE_CONN_ID

OPERATIONS = load_operations()
FALLBACK = CronTriggerTimetable(OperationsFile.cron(OPERATIONS.scoring_fallback_at), timezone="UTC")
try:
    STAGING = staging_assets(load_sources())
except ConfigError:  # ingest_sources_config_error shows the message; the time fallback still scores
    STAGING = []


class SQLCheckWithParameters(SQLCheckOperator):
    """SQLCheckOperator whose bind ``parameters`` are templated too, so XCom values reach SQL as parameters."""

    template_fields = (*SQLCheckOperator.template_fields, "parameters")


def scoring_day(params: dict, logical_date, run_after) -> date:
    """The ``day`` param, else the day before the run (an Asset-triggered run has no logical date)."""
    if params.get("day"):
        return date.fromisoformat(params["day"])
    return (logical_date or run_after).date() - timedelta(days=1)


def _window(context: dict) -> tuple[date, int]:
    params = context["params"]
    run_after = context["dag_run"].run_after
    return scoring_day(params, context.get("logical_date"), run_after), int(params.get("history_days") or 0)


def _versions(versions: dict):
    from customer_health.scoring.pipeline import ScoringVersions

    return ScoringVersions(**versions)


with DAG(
    dag_id="build_health_scores",
    description="accounts -> KPIs -> data-quality gate -> scores with explanations and changes -> CMI -> quadrants",
    doc_md=__doc__,
    schedule=AssetOrTimeSchedule(timetable=FALLBACK, assets=STAGING) if STAGING else FALLBACK,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "cs-ops", "retries": 2, "retry_delay": timedelta(minutes=2),
                  "on_failure_callback": alert_on_failure},
    params={
        "day": Param(None, type=["null", "string"], format="date", description="Day to score (default: yesterday)"),
        "history_days": Param(0, type="integer", minimum=0, maximum=800, description="Also recompute this many days before it"),
    },
    tags=["scores"],
    template_searchpath=[str(sql_dir())],
) as dag:

    @task(retries=0, doc_md="""
**validate_config** checks `include/config/scorecards.yml`, `kpis.yml` and `cmi.yml`.
A broken file fails here, red, with the file, key and what is allowed, before anything
is computed: fix the file and clear this task. It records each file's version and text
in `meta.config_versions`, and the scoring version stamped on scores (scorecards.yml and
kpis.yml together). Later steps parse the text registered here, not the files.""")
    def validate_config() -> dict:
        from customer_health.scoring.pipeline import register_configs

        return register_configs().as_dict()

    @task(doc_md="""
**build_accounts** writes the day's version of `marts.accounts` (name, CSM, segment
inputs, ARR, renewal date, parent) from the CRM in staging: a changed account closes its
previous version on that day. Scores, tasks and digests read accounts from there.
Safe to clear: a rerun of the same day writes the same versions.""")
    def build_accounts(**context) -> int:
        from customer_health.scoring.pipeline import build_accounts as run

        return run(_window(context)[0])

    @task(outlets=[ACCOUNT_DAILY_KPIS], doc_md="""
**build_kpis** builds `marts.account_daily_kpis` of the day (with `history_days`, of the
whole window) from the daily rollups of `staging.usage_events` and the other feeds, in one
transaction; missing rollups of earlier days are rolled up first (logged as a warning).
Its log says whether anything was loaded since the day was last scored. It waits for a
bulk backfill holding `staging.usage_events`. Safe to clear.""")
    def build_kpis(versions: dict, **context) -> dict:
        from customer_health.scoring.pipeline import build_kpis as run

        return run(*_window(context), _versions(versions)).as_dict()

    @task(doc_md="""
**quality_gate** judges every feed listed under `quality_gate:` in `scorecards.yml` for each
day scored: a feed with no load for too long, or a day far below its usual volume, is
recorded stale in `meta.source_quality` (with the reason, logged as a warning). The score
step then carries the affected measures' last good value, so no score falls because a
feed broke. Safe to clear; `check_source_freshness` turns red on a stale feed.""")
    def quality_gate(versions: dict, kpis: dict, **context) -> dict:
        from customer_health.scoring.pipeline import quality_gate as run

        return run(*_window(context), _versions(versions)).as_dict()

    @task(outlets=[HEALTH_SCORES], doc_md="""
**score** writes, for each day in order, `marts.health_scores` (score, band, coverage,
config version), `marts.health_score_components` (raw value, 0-100 value, weight and
contribution per measure; the view `marts.health_score_changes` derives from them what
moved the score against 1, 7 and 30 days earlier) and `marts.parent_health_scores`, after the outcomes the CRM contracts
tell (churned accounts are not scored after their churn). One transaction: a failure
leaves the previous scores. Safe to clear.""")
    def score(versions: dict, gate: dict, **context) -> dict:
        from customer_health.scoring.pipeline import score as run

        results = run(*_window(context), _versions(versions))
        last = results[-1]
        return {"day": last.day.isoformat(), "config_version": last.config_version, "days_scored": len(results),
                "bands": last.bands, "stale_streams": [f"{s.stream}: {s.reason}" for s in last.stale_streams]}

    @task(doc_md="""
**cmi** recomputes the Customer Maturity Index of every questionnaire or CSM assessment
(`marts.cmi_scores`) under the registered `cmi.yml`. There are few assessments: it is
quick, one transaction, safe to clear.""")
    def cmi(versions: dict, scored: dict) -> int:
        from customer_health.scoring.pipeline import cmi as run

        return run(_versions(versions))

    @task(outlets=[ACCOUNT_QUADRANTS], doc_md="""
**quadrants** places every account of each day scored in the health x maturity matrix
(`marts.account_quadrants`: star, cash cow, worth keeping, tough, unknown maturity) and
records the run with its versions in `meta.scoring_runs`, in one transaction. Its Asset
event (the day and versions in its extra) starts `create_csm_tasks`. Safe to clear: the
KPIs and scores are not recomputed.""")
    def quadrants(versions: dict, assessments: int, outlet_events=None, **context) -> dict:
        from customer_health.scoring.pipeline import quadrants as run

        day, history_days = _window(context)
        by_day = run(day, history_days, _versions(versions))
        outlet_events[ACCOUNT_QUADRANTS].extra = {"day": day.isoformat(), **versions}
        return {"day": day.isoformat(), "days": len(by_day), "quadrants": by_day[day]}

    versions = validate_config()
    kpis = build_kpis(versions)
    versions >> build_accounts() >> kpis
    scored = score(versions, quality_gate(versions, kpis))
    placed = quadrants(versions, cmi(versions, scored))
    placed >> SQLCheckWithParameters(
        task_id="check_source_freshness",
        doc_md="""
**check_source_freshness** is red when the quality gate found a stale feed on the day
scored: the scores are written all the same, but look at `meta.source_quality` (which
feed, why) and at the ingest DAG of that source before trusting them.""",
        conn_id=WAREHOUSE_CONN_ID,
        sql="checks/no_stale_feed.sql",
        parameters={"day": '{{ ti.xcom_pull(task_ids="score")["day"] }}'},
        retries=0,
    )
