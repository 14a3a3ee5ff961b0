"""The Airflow Assets of the warehouse tables: the one place that names them.

An Asset's identity must not depend on how the warehouse is reached. DAG files
are parsed on every machine that runs Airflow, and the warehouse may be a TCP
server, a managed Postgres, or the embedded server the demo and the tests start
(addressed by a socket path, which the Postgres asset scheme rejects: it wants a
host). So a table is named logically: ``postgres://warehouse:5432/customer_health/<schema>/<table>``,
where ``warehouse`` is the Airflow connection id rather than a host name, and the
Asset's readable name is the table's (``staging.usage_events``). Nothing here
reads the environment or a database: parsing stays cheap and identical everywhere.
"""
from __future__ import annotations

from airflow.sdk import Asset

from customer_health.warehouse.db import WAREHOUSE_CONN_ID

# Logical, not an address: the same for every way of reaching the warehouse.
WAREHOUSE_ASSET_PREFIX = f"postgres://{WAREHOUSE_CONN_ID}:5432/customer_health"


def table_asset(table: str) -> Asset:
    """The Asset for a warehouse table named ``schema.table``."""
    schema, name = table.split(".")
    return Asset(name=table, uri=f"{WAREHOUSE_ASSET_PREFIX}/{schema}/{name}")


HEALTH_SCORES = table_asset("marts.health_scores")
ACCOUNT_QUADRANTS = table_asset("marts.account_quadrants")
ACCOUNT_DAILY_KPIS = table_asset("marts.account_daily_kpis")
CSM_TASKS = table_asset("marts.csm_tasks")


def staging_assets(sources: dict) -> list[Asset]:
    """The staging tables the configured sources load (``load_sources()``), one Asset each, in name order."""
    tables = {configured.stream.staging_table for source in sources.values() for configured in source.streams.values()}
    return [table_asset(table) for table in sorted(tables)]
