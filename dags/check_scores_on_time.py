"""
### Check that the scores are on time

Runs daily at `scores_due_by` (UTC, `include/config/operations.yml`) and looks
in `meta.scoring_runs` for a finished `build_health_scores` run that scored the
day before. When there is none, **check_scores_in** fails and the failure alert
(Slack `alerts_slack`, e-mail `alerts_smtp`) says which day is missing and
which day was scored last: the CSMs' tasks of the morning would be built on
old scores. When the scores are in it logs when they came and succeeds.

What to do on an alert: look at the latest `build_health_scores` run (a red
step, or no run at all because a source DAG is stuck and the time fallback is
paused), fix it, then clear the failed step; clear this check to confirm.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, CronTriggerTimetable, task

from customer_health.alerts import alert_on_failure
from customer_health.config.operations import OperationsFile, load_operations

OPERATIONS = load_operations()

with DAG(
    dag_id="check_scores_on_time",
    description=f"Alert when yesterday's health scores are not in by {OPERATIONS.scores_due_by:%H:%M} UTC",
    doc_md=__doc__,
    schedule=CronTriggerTimetable(OperationsFile.cron(OPERATIONS.scores_due_by), timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "cs-ops", "retries": 0, "on_failure_callback": alert_on_failure},
    tags=["scores", "monitoring"],
) as dag:

    @task(doc_md="""
**check_scores_in** fails (and alerts) when no finished scoring run covers the day before the
run date; it is not retried, a retry would only delay the alert. Clear it once the scores are in.""")
    def check_scores_in(**context) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from customer_health.scoring.pipeline import latest_scoring_run, scores_in

        run_at = context.get("logical_date") or context["dag_run"].run_after
        day = run_at.date() - timedelta(days=1)
        run = scores_in(day)
        if run is None:
            last = latest_scoring_run()
            behind = (f"the latest scoring run scored {last.day} (finished {last.finished_at:%Y-%m-%d %H:%M} UTC)"
                      if last else "nothing has ever been scored")
            raise AirflowFailException(
                f"the health scores of {day} are not in at {run_at:%Y-%m-%d %H:%M} UTC "
                f"(due by {OPERATIONS.scores_due_by:%H:%M}): {behind}; look at build_health_scores")
        import logging

        logging.getLogger(__name__).info("the health scores of %s are in: scored at %s UTC under %s", day,
                                         f"{run.finished_at:%Y-%m-%d %H:%M}", run.scoring_version)
        return {"day": day.isoformat(), "finished_at": run.finished_at.isoformat()}

    check_scores_in()
