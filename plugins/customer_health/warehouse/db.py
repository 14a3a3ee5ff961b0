"""The one place that opens warehouse connections.

The warehouse is named by the Airflow connection ``warehouse`` when one is
defined (``AIRFLOW_CONN_WAREHOUSE`` or the metadata DB), else by the
``WAREHOUSE_URL`` environment variable, else the local default below. The
driver is psycopg 3 everywhere, the same one the Postgres provider uses.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import conninfo

from customer_health.warehouse.sqlfiles import fetch_one_sql_file, run_sql_file

DEFAULT_WAREHOUSE_URL = "postgresql://postgres@127.0.0.1:5432/customer_health"
WAREHOUSE_CONN_ID = "warehouse"


class WarehouseUnavailable(RuntimeError):
    """No Postgres answers at the configured address; the message says what to do."""


def airflow_connection_uri(conn_id: str) -> str | None:
    """URI of an Airflow connection, or None when Airflow does not define it."""
    if f"AIRFLOW_CONN_{conn_id.upper()}" not in os.environ and not os.environ.get("AIRFLOW_CTX_DAG_ID"):
        # Outside a task and without an env connection there is nothing to ask:
        # skip the slow import and the metadata-DB lookup.
        return None
    from airflow.sdk import BaseHook  # noqa: PLC0415 - Airflow is only needed here

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - "not defined" has several exception types across versions
        return None
    return conn.get_uri().replace("postgres://", "postgresql://", 1).split("?__extra__")[0]


def warehouse_url() -> str:
    return airflow_connection_uri(WAREHOUSE_CONN_ID) or os.environ.get("WAREHOUSE_URL") or DEFAULT_WAREHOUSE_URL


def url_with_database(url: str, dbname: str) -> str:
    """The same server address and credentials, another database; keeps the URL form Airflow needs."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, parts.fragment))


def describe(url: str) -> str:
    """host:port/dbname of a URL, without credentials, for messages and logs."""
    info = conninfo.conninfo_to_dict(url)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def connect(url: str | None = None, *, autocommit: bool = False, label: str = "warehouse") -> psycopg.Connection:
    """A psycopg connection in UTC; ``label`` names the database in the error a person reads."""
    url = url or warehouse_url()
    try:
        return psycopg.connect(url, autocommit=autocommit, options="-c TimeZone=UTC")
    except psycopg.OperationalError as exc:
        hint = (
            "Start Postgres (or run `make demo`, which starts an embedded one), or point WAREHOUSE_URL / "
            "the Airflow connection 'warehouse' at a running server."
            if label == "warehouse"
            else "Check the host, port, database and credentials of that Airflow connection."
        )
        raise WarehouseUnavailable(
            f"Cannot reach the {label} at {describe(url)}: {str(exc).strip().splitlines()[0]}\n{hint}"
        ) from exc


def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` if it is missing; True when it was created."""
    info = conninfo.conninfo_to_dict(url)
    dbname = info.get("dbname") or "postgres"
    admin_url = url_with_database(url, "postgres")
    with connect(admin_url, autocommit=True) as conn:
        if fetch_one_sql_file(conn, "warehouse/db/database_exists.sql", {"dbname": dbname})["database_exists"]:
            return False
        run_sql_file(conn, "warehouse/db/create_database.sql", database=psycopg.sql.Identifier(dbname))
        return True
