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


def _asset_uris(env: dict) -> set[str]:
    """Parse the DAG folder in a fresh process with ``env`` and return every outlet and schedule Asset URI."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import json\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(REPO_ROOT / 'dags')!r})\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "uris = {a.uri for d in bag.dags.values() for t in d.tasks for a in t.outlets}\n"
        "print(json.dumps(sorted(uris)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_asset_uris_do_not_depend_on_how_the_warehouse_is_reached():
    """A socket-addressed warehouse (the embedded server) parses, and names the same Assets as a TCP one."""
    socket_url = "postgresql://postgres@%2Ftmp%2Fpg-socket:5432/customer_health"
    tcp = _asset_uris({"WAREHOUSE_URL": "postgresql://postgres@db.internal:6543/analytics",
                       "AIRFLOW_CONN_WAREHOUSE": "postgresql://postgres@db.internal:6543/analytics"})
    socket = _asset_uris({"WAREHOUSE_URL": socket_url, "AIRFLOW_CONN_WAREHOUSE": socket_url})
    assert tcp == socket
    assert "postgres://warehouse:5432/customer_health/marts/account_quadrants" in tcp
    assert "postgres://warehouse:5432/customer_health/staging/usage_events" in tcp
