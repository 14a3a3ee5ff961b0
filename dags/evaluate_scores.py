"""
### Evaluate scores (the Check of PDCA)

Weekly, on Mondays at 06:00 UTC (and on demand): does the live health score
foresee churn? Settings in `include/config/evaluation.yml`.

1. **validate_config** checks `evaluation.yml` (horizons, reference spacing,
   grace days): a typo is red here, naming the key and what is allowed.
2. **evaluate** derives `marts.account_outcomes` from the CRM contracts
   (churned, renewed, expanded, contracted), scores any reference date that
   lacks a stored score (with the scorecards registered for the version, not
   the YAML on disk), then judges the stored scores at 30 / 60 / 90 days:
   ROC AUC compared only within each reference date, with 95 % bootstrap
   intervals over accounts, PR AUC, top-decile lift, churn by band, decile and
   quadrant, each measure and each KPI on its own, and diagnostics a CS-ops
   person acts on (constant or saturated measures, empty bands, event names
   that never occur, KPIs with signal the scorecard ignores). Everything lands
   in `marts.evaluation_runs`, `_metrics`, `_bins`, `_diagnostics` in one
   transaction, and the HTML report is written to the `report_dir` param
   (default `$EVALUATION_REPORT_DIR`, else `$AIRFLOW_HOME/reports`).

Read the verdict in the task log or `marts.evaluation_runs.verdict`. "No
significant signal" means the 95 % interval of the AUC includes 0.5: the score
is not shown to foresee churn, whatever its value.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, Param, task

from customer_health.alerts import alert_on_failure

with DAG(
    dag_id="evaluate_scores",
    description="Does the health score foresee churn? Outcomes -> evaluation with intervals -> report",
    doc_md=__doc__,
    schedule="0 6 * * 1",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "cs-ops", "retries": 1, "retry_delay": timedelta(minutes=5),
                  "on_failure_callback": alert_on_failure},
    params={
        "version": Param(None, type=["null", "string"], description="Scorecard version to judge (default: the live one)"),
        "report_dir": Param(None, type=["null", "string"], description="Where to write evaluation-<version>.html"),
    },
    tags=["evaluation", "scores"],
) as dag:

    @task(retries=0)
    def validate_config() -> dict:
        from customer_health.config.evaluation import load_evaluation

        return load_evaluation().model_dump()

    @task
    def evaluate(params=None) -> list[dict]:
        from customer_health.evaluation.pipeline import run_evaluation

        report_dir = Path(params.get("report_dir") or os.environ.get("EVALUATION_REPORT_DIR")
                          or Path(os.environ.get("AIRFLOW_HOME", ".")) / "reports")
        results = run_evaluation(version=params.get("version"), report_path=report_dir / "evaluation.html")
        for result in results:
            print(f"{result.horizon_days} days: {result.verdict}")
        return [{"horizon_days": r.horizon_days, "run_id": r.run_id, "auc": r.score_auc.value,
                 "auc_low": r.score_auc.low, "auc_high": r.score_auc.high, "verdict": r.verdict} for r in results]

    validate_config() >> evaluate()
