"""Every DAG imports cleanly and carries what an operator needs in the UI."""
from __future__ import annotations

import pytest

from customer_health.config.sources import load_sources
from demo.localenv import REPO_ROOT


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_one_ingest_dag_per_source(dagbag):
    assert {f"ingest_{name}" for name in load_sources()} <= set(dagbag.dag_ids)


def test_every_dag_has_docs_tags_owner_and_retries(dagbag):
    assert dagbag.dags, "no DAGs found"
    for dag_id, dag in dagbag.dags.items():
        assert dag.doc_md and len(dag.doc_md) > 100, f"{dag_id}: doc_md is what operators read in the UI"
        assert dag.tags, f"{dag_id}: no tags"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id}: set an owner"
            if not task.task_id.startswith(("check_", "validate_")):  # deterministic: a retry cannot help
                assert task.retries >= 1, f"{dag_id}.{task.task_id}: loads must retry"


def test_accounts_load_before_streams_that_need_them(dagbag):
    dag = dagbag.dags["ingest_crm"]
    contracts = dag.get_task("load_crm_contracts")
    assert "load_crm_accounts" in contracts.upstream_task_ids


def test_every_load_is_checked_and_declares_its_asset(dagbag):
    for dag_id in (f"ingest_{name}" for name in load_sources()):
        dag = dagbag.dags[dag_id]
        for task in dag.tasks:
            if task.task_id.startswith("load_"):
                stream = task.task_id.removeprefix("load_")
                assert {f"check_{stream}", f"check_{stream}_keys"} <= task.downstream_task_ids
                assert [a.uri for a in task.outlets] == [
                    a.uri for a in task.outlets if a.uri.endswith(f"/staging/{stream}")
                ] and task.outlets
