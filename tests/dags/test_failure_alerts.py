"""Every task alerts the operator when it fails, by Airflow's Slack webhook and SMTP notifiers."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

from customer_health.alerts import alert_on_failure
from demo.localenv import REPO_ROOT
from demo.receivers import SlackReceiver, SmtpReceiver


def test_every_task_of_every_dag_carries_the_failure_alert():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert bag.dags
    for dag_id, dag in bag.dags.items():
        for task in dag.tasks:
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert alert_on_failure in callbacks, f"{dag_id}.{task.task_id} fails silently"


@pytest.mark.airflow
def test_a_failing_task_alerts_on_slack_and_by_email(warehouse, airflow_db, tmp_path, monkeypatch):
    """A broken evaluation.yml fails validate_config for real: the alert names DAG, task, date and cause."""
    from airflow.dag_processing.dagbag import DagBag

    include = tmp_path / "include"
    shutil.copytree(REPO_ROOT / "include", include)
    (include / "config" / "evaluation.yml").write_text("horizons_days: [30]\nreference_every_dayz: 7\n", encoding="utf-8")
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))
    with SlackReceiver() as slack, SmtpReceiver() as smtp:
        monkeypatch.setenv("AIRFLOW_CONN_ALERTS_SLACK", slack.connection("services/ALERT/ALERT/alert"))
        monkeypatch.setenv("AIRFLOW_CONN_ALERTS_SMTP", smtp.connection("customer-health@example.com"))
        monkeypatch.setenv("CUSTOMER_HEALTH_ALERT_EMAIL", "oncall@example.com")
        bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
        run = bag.dags["evaluate_scores"].test(logical_date=datetime(2026, 11, 23, tzinfo=timezone.utc))
        states = {ti.task_id: ti.state for ti in run.get_task_instances()}
        assert states["validate_config"] == "failed"
        assert len(slack.messages) == 1 and len(smtp.messages) == 1
        text = slack.messages[0].json["text"]
        for expected in ("evaluate_scores.validate_config failed for 2026-11-23", "reference_every_dayz"):
            assert expected in text
        mail = smtp.messages[0]
        assert mail.rcpt_tos == ["oncall@example.com"]
        assert "evaluate_scores.validate_config failed" in mail.message["Subject"]
