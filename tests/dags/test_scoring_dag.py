"""The scoring DAG as an operator sees it: one box per step, each documented, started by the staging Assets;
and the check that alerts when the day's scores are not in by the configured hour."""
from __future__ import annotations

import shutil
from datetime import date, datetime, time, timezone

import pytest

from customer_health.config import ConfigError
from customer_health.config.operations import load_operations
from customer_health.config.sources import load_sources
from demo.localenv import REPO_ROOT
from demo.receivers import SlackReceiver
from tests.helpers import accounts, load_rows

STEPS = ["validate_config", "build_accounts", "build_kpis", "quality_gate", "score", "cmi", "quadrants",
         "check_source_freshness"]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert bag.import_errors == {}
    return bag


def test_every_step_is_its_own_task_in_order_with_a_doc(dagbag):
    dag = dagbag.dags["build_health_scores"]
    assert sorted(t.task_id for t in dag.tasks) == sorted(STEPS)
    for upstream, downstream in zip(STEPS, STEPS[1:]):
        assert upstream in dag.get_task(downstream).get_flat_relative_ids(upstream=True), \
            f"{upstream} must run before {downstream}"
    # A failure in the quadrants reruns the quadrants only: nothing before it sits in the same task.
    assert dag.get_task("quadrants").upstream_task_ids == {"validate_config", "cmi"}
    for task in dag.tasks:
        assert task.doc_md and task.task_id in task.doc_md and len(task.doc_md) > 120, \
            f"{task.task_id}: the operator reads the task's doc in the UI"


def test_scores_start_on_every_staging_asset_with_the_configured_time_fallback(dagbag):
    from airflow.sdk import AssetOrTimeSchedule

    dag = dagbag.dags["build_health_scores"]
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    fallback = load_operations().scoring_fallback_at
    assert dag.timetable.timetable.expression == f"{fallback.minute} {fallback.hour} * * *"
    staged = {c.stream.staging_table for s in load_sources().values() for c in s.streams.values()}
    condition = dag.timetable.asset_condition
    assert condition.agg_func is all, "every source lands before the scores run (or the time fallback comes)"
    assert {asset.name for asset in condition.objects} == staged
    # Each of them is written by an ingest DAG's load task, so the Assets view links sources to scores.
    produced = {a.name for d in dagbag.dags.values() if d.dag_id.startswith("ingest_") for t in d.tasks for a in t.outlets}
    assert staged <= produced


def test_the_assets_chain_staging_scores_quadrants_tasks_with_readable_names(dagbag):
    scores = dagbag.dags["build_health_scores"]
    outlets = {t.task_id: [a.name for a in t.outlets] for t in scores.tasks if t.outlets}
    assert outlets == {"build_kpis": ["marts.account_daily_kpis"], "score": ["marts.health_scores"],
                       "quadrants": ["marts.account_quadrants"]}
    tasks = dagbag.dags["create_csm_tasks"]
    assert [a.name for a in tasks.timetable.asset_condition.objects] == ["marts.account_quadrants"]
    assert [a.name for a in tasks.get_task("run_playbooks").outlets] == ["marts.csm_tasks"]


def test_operations_config_errors_name_the_key(tmp_path):
    path = tmp_path / "operations.yml"
    path.write_text('scoring_fallback_at: "07:00"\nscores_due_by: "06:30"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="scores_due_by .06:30. must be later than scoring_fallback_at"):
        load_operations(path)
    path.write_text("scores_due_by: 6:30\n", encoding="utf-8")  # YAML 1.1 reads it as the number 390
    with pytest.raises(ConfigError, match=r"operations.yml.*scores_due_by.*quotes"):
        load_operations(path)
    path.write_text('scores_due_by: "6.30pm"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="HH:MM"):
        load_operations(path)
    path.write_text('scores_due_by: "08:15"\n', encoding="utf-8")
    assert load_operations(path).scores_due_by == time(8, 15)


@pytest.mark.airflow
def test_late_scores_alert_and_scores_in_time_pass(warehouse, warehouse_url, airflow_db, tmp_path, monkeypatch):
    """check_scores_on_time runs for real: no scores for the day before -> failed and a Slack alert naming the
    missing day and the last one scored; after build_health_scores scored it -> success, no alert."""
    from airflow.dag_processing.dagbag import DagBag

    include = tmp_path / "include"
    shutil.copytree(REPO_ROOT / "include", include)
    (include / "config" / "operations.yml").write_text('scoring_fallback_at: "04:00"\nscores_due_by: "08:15"\n',
                                                       encoding="utf-8")
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))
    load_rows(warehouse_url, "crm_accounts", accounts("a1", "a2"))
    due = datetime(2026, 11, 22, 8, 15, tzinfo=timezone.utc)
    with SlackReceiver() as slack:
        monkeypatch.setenv("AIRFLOW_CONN_ALERTS_SLACK", slack.connection("services/ALERT/ALERT/alert"))
        bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
        check = bag.dags["check_scores_on_time"]
        assert check.timetable.expression == "15 8 * * *"

        run = check.test(logical_date=due)
        assert {ti.task_id: ti.state for ti in run.get_task_instances()} == {"check_scores_in": "failed"}
        assert len(slack.messages) == 1
        text = slack.messages[0].json["text"]
        assert "check_scores_on_time.check_scores_in failed" in text
        assert "the health scores of 2026-11-21 are not in" in text and "nothing has ever been scored" in text

        # The day before the missing one is scored: the alert says how far behind the scores are.
        from customer_health.scoring.pipeline import build_and_score

        build_and_score(date(2026, 11, 20), warehouse_url=warehouse_url)
        run = check.test(logical_date=due.replace(hour=9))
        assert {ti.task_id: ti.state for ti in run.get_task_instances()} == {"check_scores_in": "failed"}
        assert "the latest scoring run scored 2026-11-20" in slack.messages[1].json["text"]

        build_and_score(date(2026, 11, 21), warehouse_url=warehouse_url)
        run = check.test(logical_date=due.replace(hour=10))
        assert {ti.task_id: ti.state for ti in run.get_task_instances()} == {"check_scores_in": "success"}
        assert len(slack.messages) == 2, "scores in time: no alert"
