"""Airflow Assets for warehouse tables, so downstream DAGs run when data lands.

URIs follow the Postgres asset scheme ``postgres://host:port/db/schema/table``.
They are computed from the environment only (``WAREHOUSE_URL`` or
``AIRFLOW_CONN_WAREHOUSE``): DAG files are parsed often and must not touch a
database while parsing.
"""
from __future__ import annotations

import os

from psycopg import conninfo

from customer_health.warehouse.db import DEFAULT_WAREHOUSE_URL


def _warehouse_address() -> str:
    url = os.environ.get("AIRFLOW_CONN_WAREHOUSE") or os.environ.get("WAREHOUSE_URL") or DEFAULT_WAREHOUSE_URL
    if url.startswith("{"):  # JSON-form Airflow connection
        import json  # noqa: PLC0415

        data = json.loads(url)
        return f"{data.get('host', 'localhost')}:{data.get('port', 5432)}/{data.get('schema', 'postgres')}"
    info = conninfo.conninfo_to_dict(url.replace("postgres://", "postgresql://", 1).split("?")[0])
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', 'postgres')}"


def table_asset_uri(table: str) -> str:
    schema, name = table.split(".")
    return f"postgres://{_warehouse_address()}/{schema}/{name}"
