"""
### Ingest sources

One DAG per entry of `include/config/sources.yml` (`ingest_<source>`). For each
stream of the source:

1. **migrate_warehouse** applies pending schema migrations (idempotent).
2. **load_&lt;stream&gt;** extracts what changed since the stored cursor, lands it
   (a copy stays in `raw.<stream>` when the source cannot be read again), sends
   rows that break the contract to `meta.quarantine` (with the reason) and
   merges the rest into `staging.<stream>`, all in one transaction: clearing
   or rerunning a task gives the same warehouse. A first load of a database's
   event history takes the bulk path (`meta.load_batches.load_path = 'bulk'`):
   it locks `staging.usage_events` until it commits, so KPI tasks wait for it.
3. **check_&lt;stream&gt;** / **check_&lt;stream&gt;_keys** run data-quality checks (row
   count, key uniqueness, freshness); a red check means look before trusting
   today's scores.

Accounts (CRM) load before the streams that must name a known account. Rows
quarantined only because their account was not known yet are taken back in
automatically once the CRM knows it.

Where to look: `meta.load_batches` (one row per load, with counts),
`meta.quarantine` (bad rows and why), `meta.source_state` (cursors).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.common.sql.operators.sql import SQLColumnCheckOperator, SQLTableCheckOperator
from airflow.sdk import DAG, task

from customer_health.alerts import alert_on_failure
from customer_health.assets import table_asset
from customer_health.checks import column_checks, table_checks
from customer_health.config import ConfigError
from customer_health.config.sources import load_sources
from customer_health.warehouse.db import WAREHOUSE_CONN_ID

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(minutes=1), "on_failure_callback": alert_on_failure}


@task
def migrate_warehouse() -> list[str]:
    from customer_health.warehouse.db import connect, ensure_database, warehouse_url
    from customer_health.warehouse.migrate import migrate

    ensure_database(warehouse_url())
    with connect() as conn:
        return migrate(conn)


def build_ingest_dag(source) -> DAG:
    with DAG(
        dag_id=f"ingest_{source.name}",
        description=source.entry.description or f"{source.kind} source {source.name}",
        doc_md=__doc__ + f"\n\n**This source**: `{source.name}` ({source.kind}) - {source.entry.description}",
        schedule=source.entry.schedule,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args={**DEFAULT_ARGS, "owner": source.entry.owner},
        tags=["ingest", source.kind],
    ) as dag:
        migrated = migrate_warehouse()
        account_loads = []
        dependent_loads = []
        for name, configured in source.streams.items():
            staging = configured.stream.staging_table

            @task(task_id=f"load_{name}", outlets=[table_asset(staging)])
            def load(stream_name: str = name, **context):
                from customer_health.sources.ingest import ingest_stream

                return ingest_stream(source.name, stream_name, run_id=context["run_id"]).as_dict()

            loaded = load()
            migrated >> loaded
            (dependent_loads if configured.stream.requires_known_account else account_loads).append(loaded)
            loaded >> SQLTableCheckOperator(
                task_id=f"check_{name}",
                conn_id=WAREHOUSE_CONN_ID,
                table=staging,
                checks=table_checks(configured),
                retries=0,
            )
            loaded >> SQLColumnCheckOperator(
                task_id=f"check_{name}_keys",
                conn_id=WAREHOUSE_CONN_ID,
                table=staging,
                column_mapping=column_checks(configured),
                retries=0,
            )
        for accounts in account_loads:
            accounts >> dependent_loads
    return dag


def build_config_error_dag(error: ConfigError) -> DAG:
    """A broken sources.yml must not hide silently: this DAG's only task fails with the message."""
    with DAG(
        dag_id="ingest_sources_config_error",
        doc_md=f"`sources.yml` is invalid, no source DAG could be built:\n\n```\n{error}\n```",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        default_args={**DEFAULT_ARGS, "owner": "data-engineering", "retries": 0},
        tags=["ingest", "config-error"],
    ) as dag:

        @task
        def validate_sources_yml():
            load_sources()  # raises the same ConfigError, shown in the task log

        validate_sources_yml()
    return dag


try:
    SOURCES = load_sources()
except ConfigError as config_error:
    globals()["ingest_sources_config_error"] = build_config_error_dag(config_error)
else:
    for _source in SOURCES.values():
        globals()[f"ingest_{_source.name}"] = build_ingest_dag(_source)
