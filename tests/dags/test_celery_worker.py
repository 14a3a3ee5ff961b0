"""A real Celery worker runs a real DAG's task: the CeleryExecutor path of docker-compose.yml's `celery` profile.

Against the machine's Redis at 127.0.0.1:6379 (skipped, saying so, where none answers): a metadata
database of its own on the test Postgres, `airflow api-server` (Airflow 3 workers report to its
Execution API), `airflow celery worker` on a queue of this test's own, and `dag.test(use_executor=True)`
in a third process sending `check_scores_on_time`'s task through Redis. The task reads the warehouse
from the worker and succeeds because a scoring run of the day is recorded there.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from customer_health.warehouse import config_versions
from customer_health.warehouse.db import url_with_database
from demo.airflow_local import wait_until_answering
from demo.localenv import REPO_ROOT

REDIS = ("127.0.0.1", 6379)
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def redis_answers() -> str | None:
    """None when Redis answers PING at 127.0.0.1:6379, else why not."""
    try:
        with socket.create_connection(REDIS, timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            reply = conn.recv(64)
    except OSError as exc:
        return f"no Redis answers at {REDIS[0]}:{REDIS[1]} ({exc}): start one to run the Celery worker test"
    return None if reply.startswith(b"+PONG") else f"127.0.0.1:6379 answered {reply!r}, not a Redis PONG"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def metadata_db():
    """An Airflow metadata database of this test's own on the test Postgres (Celery needs more than SQLite)."""
    admin = os.environ["TEST_POSTGRES_URL"]
    name = f"ch_test_{uuid.uuid4().hex[:8]}_airflow"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield url_with_database(admin, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


DRIVER = textwrap.dedent("""
    import json
    from datetime import datetime, timezone
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder={dags!r})
    dag = bag.dags["check_scores_on_time"]
    for task in dag.tasks:  # this test's tasks reach this test's worker only
        task.queue = {queue!r}
    run = dag.test(
        logical_date=datetime(2026, 11, 22, 6, 30, tzinfo=timezone.utc), use_executor=True)
    print("RESULT " + json.dumps({{ti.task_id: {{"state": ti.state, "queue": ti.queue, "pid": ti.pid}}
                                   for ti in run.get_task_instances()}}))
""")


@pytest.mark.airflow
def test_a_celery_worker_runs_a_dag_task_through_redis(warehouse, warehouse_url, metadata_db, tmp_path):
    reason = redis_answers()
    if reason:
        pytest.skip(reason)
    with psycopg.connect(warehouse_url) as conn:  # the scores of 2026-11-21 are in
        config_versions.record_scoring_run(conn, date(2026, 11, 21), "scoring-v", "cmi-v", 1)
    queue = f"ch_test_{uuid.uuid4().hex[:8]}"
    port = free_port()
    home = tmp_path / "airflow"
    metadata = metadata_db.replace("postgresql://", "postgresql+psycopg2://", 1)
    home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata}",  # as the compose profile: results in the metadata DB
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex * 2,
        "AIRFLOW__API__SECRET_KEY": uuid.uuid4().hex,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",  # the worker's "Task execute_workload[...] succeeded" line
        "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}",
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    logs = {name: open(tmp_path / f"{name}.log", "w+", encoding="utf-8") for name in ("api-server", "worker")}
    api = subprocess.Popen([AIRFLOW, "api-server", "--port", str(port)], env=env,
                           stdout=logs["api-server"], stderr=subprocess.STDOUT)
    worker = subprocess.Popen([AIRFLOW, "celery", "worker", "--queues", queue, "--concurrency", "1",
                               "--celery-hostname", f"{queue}@%h", "--without-mingle", "--without-gossip",
                               "--skip-serve-logs"], env=env, stdout=logs["worker"], stderr=subprocess.STDOUT)
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/api/v2/version", api, timeout_s=300)
        try:
            driver = subprocess.run([sys.executable, "-c", DRIVER.format(dags=str(REPO_ROOT / "dags"), queue=queue)], env=env,
                                    capture_output=True, text=True, timeout=600)
            output, errors = driver.stdout, driver.stderr
        except subprocess.TimeoutExpired as timeout:
            output, errors = (timeout.stdout or b"").decode(), (timeout.stderr or b"").decode()
        result = next((line for line in output.splitlines() if line.startswith("RESULT ")), None)
        worker_log = (tmp_path / "worker.log").read_text(encoding="utf-8")
        assert result, f"the DAG run did not finish:\n{errors[-3000:]}\nworker:\n{worker_log[-3000:]}"
        states = json.loads(result.removeprefix("RESULT "))
        assert states["check_scores_in"]["state"] == "success", (states, worker_log[-3000:])
        assert states["check_scores_in"]["queue"] == queue
        assert states["check_scores_in"]["pid"] not in (None, os.getpid()), "the task ran in the worker's process"
        # The worker logs the Celery task's end just after the task instance's state is in: give it a moment.
        for _ in range(60):
            worker_log = (tmp_path / "worker.log").read_text(encoding="utf-8")
            if re.search(r"Task execute_workload\[[\w-]+\] succeeded", worker_log):
                break
            time.sleep(1)
        assert re.search(r"Task execute_workload\[[\w-]+\] succeeded", worker_log), worker_log[-3000:]
    finally:
        for process in (worker, api):
            process.terminate()
        for process in (worker, api):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs.values():
            log.close()
        import redis  # noqa: PLC0415 - celery[redis]'s client: forget this test's queue bindings

        redis.Redis(*REDIS).delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
