"""
### Build health scores

Daily, after the sources have landed:

1. **validate_config** checks `include/config/scorecards.yml`, `kpis.yml`
   and `cmi.yml`. A broken file fails here, red, with the file, key and what is
   allowed, before anything is computed.
2. **build_and_score** builds `marts.account_daily_kpis` for the day from the
   daily rollups, runs the data-quality gate (stale feeds are recorded in
   `meta.source_quality` and their measures carry their last good value) and
   writes `marts.health_scores` (score, band, coverage, config version),
   `marts.health_score_components` (why: raw value, 0-100 value, weight and
   contribution per measure), `marts.health_score_changes` (what moved it
   against 1, 7 and 30 days earlier) and `marts.parent_health_scores`; then
   the Customer Maturity Index per assessment (`marts.cmi_scores`) and the
   health x maturity quadrant per account (`marts.account_quadrants`).
   Finishing emits the `marts.account_quadrants` Asset, which starts
   `create_csm_tasks`.
3. **check_source_freshness** is red when the gate found a stale feed that
   day: scores are still written, but look at `meta.source_quality`.

The day scored is the day before the run date, or the `day` param; set
`history_days` to recompute a window (first run, backfill). Rerunning a day
replaces that day's rows for the current config version only; scores made
by earlier versions of the scorecards are never rewritten.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from airflow.providers.common.sql.operators.sql import SQLCheckOperator
from airflow.sdk import DAG, Param, task

from customer_health.alerts import alert_on_failure
from customer_health.assets import ACCOUNT_QUADRANTS, HEALTH_SCORES
from customer_health.warehouse.db import WAREHOUSE_CONN_ID



def scoring_day(params: dict, logical_date, run_after) -> date:
    if params.get("day"):
        return date.fromisoformat(params["day"])
    return (logical_date or run_after).date() - timedelta(days=1)


with DAG(
    dag_id="build_health_scores",
    description="KPIs -> data-quality gate -> health scores with explanations and changes -> CMI -> quadrants",
    doc_md=__doc__,
    schedule="0 5 * * *",
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
) as dag:

    @task(retries=0)
    def validate_config() -> str:
        from customer_health.config.cmi import load_cmi
        from customer_health.config.kpis import load_kpis
        from customer_health.config.scorecards import load_scorecards

        load_kpis()
        load_cmi()
        _config, version = load_scorecards()
        return version

    @task(outlets=[HEALTH_SCORES, ACCOUNT_QUADRANTS])
    def build_and_score(params=None, logical_date=None, run_after=None) -> dict:
        from customer_health.scoring.pipeline import build_and_score as run

        day = scoring_day(params, logical_date, run_after)
        results = run(day, int(params.get("history_days") or 0))
        last = results[-1]
        return {
            "day": last.day.isoformat(),
            "config_version": last.config_version,
            "days_scored": len(results),
            "bands": last.bands,
            "quadrants": last.quadrants,
            "stale_streams": [f"{s.stream}: {s.reason}" for s in last.stale_streams],
        }

    scored = build_and_score()
    validate_config() >> scored
    scored >> SQLCheckOperator(
        task_id="check_source_freshness",
        conn_id=WAREHOUSE_CONN_ID,
        sql="""SELECT count(*) = 0 AS no_stale_feed FROM meta.source_quality
               WHERE stale AND day = '{{ ti.xcom_pull(task_ids="build_and_score")["day"] }}'::date""",
        retries=0,
    )
