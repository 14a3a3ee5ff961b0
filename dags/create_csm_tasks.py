"""
### Create CSM tasks

Runs when `build_health_scores` has written the day's quadrants (the
`marts.account_quadrants` Asset), and at 07:00 as a fallback:

1. **validate_config** checks `include/config/playbooks.yml`: conditions,
   template syntax and rendering against a sample account. A broken file is
   red here with the play and key named, before anything is created. It
   records the file's version and text in `meta.config_versions`; the plays
   run are the ones registered here.
2. **sync_task_status** reads tasks completed or dismissed in the CRM since
   the last sync into `marts.csm_tasks`, so cooldowns see them.
3. **run_playbooks** evaluates every play for every account of the latest
   scoring run (`meta.scoring_runs`: its day, scoring and CMI versions, never
   re-read from the YAML files) and writes
   `marts.csm_tasks`: at most one open task per play and account (the
   database refuses a second), cooldowns after closed tasks, auto-close when
   a condition clears, and nothing from feeds the quality gate marked stale.
   A template that fails for one account skips that play for that account
   only: the rest is written, the error is logged and listed under `errors`
   in the task's result (XCom), and **check_template_errors** turns red
   (alerting, see `alerts.py`) once the delivery steps have run anyway.
   **A past day** (the `day` param before the latest scored day) is
   evaluated as a *preview*: nothing is written, the result says
   `preview: true` and what it would have created and closed. Live tasks
   come only from the latest scored day, so a backfill or a mistyped day
   cannot close today's tasks or create tasks from old scores.
4. **push_to_crm** creates each new task in the CRM once (a retry finds the
   task it already made); **send_digests** sends each CSM one digest a day by
   Slack and e-mail (not after a preview).

History of every task: `marts.csm_task_history`. `run_playbooks` emits the
`marts.csm_tasks` Asset, so the Assets view shows sources -> staging -> scores
-> quadrants -> tasks.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from airflow.sdk import DAG, AssetOrTimeSchedule, CronTriggerTimetable, Param, task

from customer_health.alerts import alert_on_failure
from customer_health.assets import ACCOUNT_QUADRANTS, CSM_TASKS

with DAG(
    dag_id="create_csm_tasks",
    description="Playbooks -> CSM tasks -> CRM, Slack and e-mail, exactly once",
    doc_md=__doc__,
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 7 * * *", timezone="UTC"), assets=[ACCOUNT_QUADRANTS]),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "cs-ops", "retries": 3, "retry_delay": timedelta(minutes=2),
                  "on_failure_callback": alert_on_failure},
    params={"day": Param(None, type=["null", "string"], format="date",
                         description="Day to evaluate (default: latest scored); an earlier day is a preview that writes nothing")},
    tags=["tasks", "playbooks"],
) as dag:

    @task(retries=0)
    def validate_config() -> str:
        from customer_health.playbooks.pipeline import register_playbooks

        return register_playbooks()

    @task
    def sync_task_status() -> dict:
        from customer_health.delivery.pipeline import sync_from_crm

        return sync_from_crm()

    @task(outlets=[CSM_TASKS])
    def run_playbooks(playbooks_version: str, params=None) -> dict:
        from customer_health.playbooks.pipeline import create_tasks

        run = create_tasks(date.fromisoformat(params["day"]) if params.get("day") else None,
                           playbooks_version=playbooks_version)
        return run.as_dict()

    @task
    def push_to_crm() -> int:
        from customer_health.delivery.pipeline import push_new_tasks

        return push_new_tasks()

    @task
    def send_digests(played: dict) -> dict:
        from customer_health.delivery.pipeline import send_daily_digests

        if played.get("preview"):
            return {}  # a past day's preview created nothing to tell anyone about
        return send_daily_digests(date.fromisoformat(played["day"]))

    @task(retries=0, trigger_rule="all_done")
    def check_template_errors(played: dict) -> None:
        """Red when a template failed for some account: the other tasks are made and delivered, this one alerts."""
        if played and played.get("errors"):
            raise RuntimeError(f"{len(played['errors'])} task(s) not created, a template failed: "
                               + " | ".join(played["errors"][:5]))

    playbooks_version = validate_config()
    played = run_playbooks(playbooks_version)
    playbooks_version >> sync_task_status() >> played
    delivered = [push_to_crm(), send_digests(played)]
    played >> delivered[0]
    delivered >> check_template_errors(played)
