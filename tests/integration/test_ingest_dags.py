"""Real Airflow runs of the real ingest DAGs: incremental loads, reruns, checks that fail visibly."""
from __future__ import annotations

from datetime import datetime, timezone

import psycopg
import pytest

from demo.localenv import REPO_ROOT
from tests.helpers import accounts, load_rows

PRODUCT_SCHEMA = """
DROP SCHEMA IF EXISTS app CASCADE;
CREATE SCHEMA app;
CREATE TABLE app.organizations (id bigint PRIMARY KEY, crm_company_id text, name text, created_at timestamptz);
CREATE TABLE app.members (id bigint PRIMARY KEY, organization_id bigint, email text, role text,
                          created_at timestamptz, removed_at timestamptz);
CREATE TABLE app.subscriptions (organization_id bigint PRIMARY KEY, seats int, updated_at timestamptz);
CREATE TABLE app.events (id bigint PRIMARY KEY, organization_id bigint, member_id bigint, name text,
                         created_at timestamptz, duration_ms int);
INSERT INTO app.organizations VALUES (1, 'a1', 'Acme', '2026-01-01'), (2, NULL, 'No CRM id', '2026-01-01'),
                                     (3, 'ghost', 'Unknown to CRM', '2026-01-01');
INSERT INTO app.members VALUES (10, 1, 'x@acme.test', 'admin', '2026-01-02', NULL), (11, 1, 'y@acme.test', 'member', '2026-01-02', NULL);
INSERT INTO app.subscriptions VALUES (1, 25, '2026-01-01');
"""


def add_events(url, first_id, count, day):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO app.events
               SELECT i, CASE WHEN i %% 10 = 0 THEN 2 ELSE 1 END, 10 + i %% 2, 'login',
                      %s::timestamptz + make_interval(mins => i - %s), 60000
               FROM generate_series(%s::int, %s::int) AS i""",
            [f"{day} 08:00+00", first_id, first_id, first_id + count - 1],
        )


@pytest.fixture
def product_db(product_db_url):
    with psycopg.connect(product_db_url, autocommit=True) as conn:
        conn.execute(PRODUCT_SCHEMA)
    return product_db_url


def run_dag(dag_id, when, conf=None):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    run = bag.dags[dag_id].test(logical_date=when, run_conf=conf)
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def counts(conn):
    return {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - constant names
        for table in ("staging.usage_events", "staging.users", "staging.licences", "meta.quarantine")
    }


@pytest.mark.airflow
def test_product_db_loads_incrementally_and_reruns_change_nothing(warehouse, warehouse_url, product_db, airflow_db):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    add_events(product_db, 1, 30, "2026-11-21")

    states = run_dag("ingest_product_db", datetime(2026, 11, 22, tzinfo=timezone.utc))
    assert set(states.values()) == {"success"}, states
    first = counts(warehouse)
    # events 10, 20, 30 belong to an organization without a CRM id
    assert first == {"staging.usage_events": 27, "staging.users": 2, "staging.licences": 1, "meta.quarantine": 3}
    reasons = {r for (r,) in warehouse.execute("SELECT DISTINCT reason FROM meta.quarantine")}
    assert reasons == {"missing account_id"}

    # a rerun of the same day: nothing new is received, nothing changes
    states = run_dag("ingest_product_db", datetime(2026, 11, 22, tzinfo=timezone.utc))
    assert set(states.values()) == {"success"}
    assert counts(warehouse) == first
    (received,) = warehouse.execute(
        "SELECT rows_received FROM meta.load_batches WHERE stream = 'usage_events' ORDER BY batch_id DESC LIMIT 1"
    ).fetchone()
    assert received == 0

    # the next day brings 12 new events: only those are read
    add_events(product_db, 31, 12, "2026-11-22")
    states = run_dag("ingest_product_db", datetime(2026, 11, 23, tzinfo=timezone.utc))
    assert set(states.values()) == {"success"}
    (received, inserted) = warehouse.execute(
        "SELECT rows_received, rows_inserted FROM meta.load_batches WHERE stream = 'usage_events' ORDER BY batch_id DESC LIMIT 1"
    ).fetchone()
    assert (received, inserted) == (12, 11)  # event 40 has no account
    assert counts(warehouse)["staging.usage_events"] == 38


@pytest.mark.airflow
def test_a_stale_feed_turns_its_freshness_check_red(warehouse, warehouse_url, product_db, airflow_db):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    add_events(product_db, 1, 5, "2026-10-01")  # seven weeks before the run
    states = run_dag("ingest_product_db", datetime(2026, 11, 22, tzinfo=timezone.utc))
    assert states["load_usage_events"] == "success"
    assert states["check_usage_events"] == "failed"
    assert states["check_usage_events_keys"] == "success"


@pytest.mark.airflow
def test_rows_removed_from_the_product_db_are_deleted_by_the_next_full_snapshot(warehouse, warehouse_url, product_db,
                                                                                  airflow_db):
    load_rows(warehouse_url, "crm_accounts", accounts("a1", "a2"))
    add_events(product_db, 1, 5, "2026-11-21")
    with psycopg.connect(product_db, autocommit=True) as conn:
        conn.execute("INSERT INTO app.organizations VALUES (4, 'a2', 'Beta', '2026-01-01')")
        conn.execute("INSERT INTO app.subscriptions VALUES (4, 5, '2026-01-01')")
    assert set(run_dag("ingest_product_db", datetime(2026, 11, 22, tzinfo=timezone.utc)).values()) == {"success"}
    assert counts(warehouse)["staging.licences"] == 2
    with psycopg.connect(product_db, autocommit=True) as conn:
        conn.execute("DELETE FROM app.members WHERE id = 11")
        conn.execute("DELETE FROM app.subscriptions WHERE organization_id = 4")
    assert set(run_dag("ingest_product_db", datetime(2026, 11, 23, tzinfo=timezone.utc)).values()) == {"success"}
    assert counts(warehouse) | {"meta.quarantine": 0} == {
        "staging.usage_events": 5, "staging.users": 1, "staging.licences": 1, "meta.quarantine": 0}
    # users and licences are complete snapshots (queries without a cursor); the events query is incremental
    last = {stream: (complete, deleted) for stream, complete, deleted in warehouse.execute(
        """SELECT DISTINCT ON (stream) stream, complete, rows_deleted FROM meta.load_batches
           WHERE source = 'product_db' ORDER BY stream, batch_id DESC""")}
    assert last == {"usage_events": (False, 0), "users": (True, 1), "licences": (True, 1)}
    assert warehouse.execute("SELECT user_id FROM history.users WHERE deleted").fetchall() == [("11",)]
