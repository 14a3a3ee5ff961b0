"""
### Build health scores

Daily, after the sources have landed:

1. **validate_config** checks `include/config/scorecards.yml`, `kpis.yml`
   and `cmi.yml`. A broken file fails here, red, with the file, key and what is
   allowed, before anything is computed. It records each file's version and
   text in `meta.config_versions`, and the scoring version stamped on scores
   (scorecards.yml and kpis.yml together: a changed KPI definition is a new
   version). Later steps read the config registered here, not the files.
2. **build_accounts** writes the day's version of `marts.accounts` (name, CSM,
   segment inputs, ARR, renewal date) from the CRM in staging: a changed
   account closes its previous version on that day. Scores, tasks and digests
   read accounts from there.
3. **build_and_score** builds `marts.account_daily_kpis` for the day from the
   daily rollups, runs the data-quality gate (stale feeds are recorded in
   `meta.source_quality` and their measures carry their last good value) and
   writes `marts.health_scores` (score, band, coverage, config version),
   `marts.health_score_components` (why: raw value, 0-100 value, weight and
   contribution per measure), `marts.health_score_changes` (what moved it
   against 1, 7 and 30 days earlier) and `marts.parent_health_scores`; then
   the Customer Maturity Index per assessment (`marts.cmi_scores`) and the
   health x maturity quadrant per account (`marts.account_quadrants`). It
   records the run and its versions in `meta.scoring_runs` and emits the
   `marts.account_quadrants` Asset (its extra carries the day and versions),
   which starts `create_csm_tasks`.
4. **check_source_freshness** is red when the gate found a stale feed that
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
from customer_health.paths import sql_dir
from customer_health.warehouse.db import WAREHOUSE_CONN_ID


class SQLCheckWithParameters(SQLCheckOperator):
    """SQLCheckOperator whose bind ``parameters`` are templated too, so XCom values reach SQL as parameters."""

    template_fields = (*SQLCheckOperator.template_fields, "parameters")


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
    template_searchpath=[str(sql_dir())],
) as dag:

    @task(retries=0)
    def validate_config() -> dict:
        from customer_health.scoring.pipeline import register_configs

        return register_configs().as_dict()

    @task
    def build_accounts(params=None, logical_date=None, run_after=None) -> int:
        from customer_health.scoring.pipeline import build_accounts as run

        return run(scoring_day(params, logical_date, run_after))

    @task(outlets=[HEALTH_SCORES, ACCOUNT_QUADRANTS])
    def build_and_score(versions: dict, params=None, logical_date=None, run_after=None, outlet_events=None) -> dict:
        from customer_health.scoring.pipeline import ScoringVersions
        from customer_health.scoring.pipeline import build_and_score as run

        day = scoring_day(params, logical_date, run_after)
        results = run(day, int(params.get("history_days") or 0), versions=ScoringVersions(**versions))
        last = results[-1]
        outlet_events[ACCOUNT_QUADRANTS].extra = {"day": last.day.isoformat(), **versions}
        return {
            "day": last.day.isoformat(),
            "config_version": last.config_version,
            "versions": versions,
            "days_scored": len(results),
            "bands": last.bands,
            "quadrants": last.quadrants,
            "stale_streams": [f"{s.stream}: {s.reason}" for s in last.stale_streams],
        }

    versions = validate_config()
    scored = build_and_score(versions)
    versions >> build_accounts() >> scored
    scored >> SQLCheckWithParameters(
        task_id="check_source_freshness",
        conn_id=WAREHOUSE_CONN_ID,
        sql="checks/no_stale_feed.sql",
        parameters={"day": '{{ ti.xcom_pull(task_ids="build_and_score")["day"] }}'},
        retries=0,
    )
