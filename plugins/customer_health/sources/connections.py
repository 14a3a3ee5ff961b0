"""Credentials for a source, from its Airflow connection (or ``AIRFLOW_CONN_<ID>`` in the environment)."""
from __future__ import annotations

from customer_health.sources.base import ConnectionDetails


def connection_details(conn_id: str) -> ConnectionDetails:
    from airflow.sdk import BaseHook  # noqa: PLC0415 - only sources that need a connection pay the import

    conn = BaseHook.get_connection(conn_id)
    host = conn.host or ""
    if conn.conn_type in ("http", "https") and host and "://" not in host:
        host = f"{conn.conn_type}://{host}" + (f":{conn.port}" if conn.port else "")
    uri = conn.get_uri()
    if conn.conn_type in ("postgres", "postgresql"):
        uri = uri.replace("postgres://", "postgresql://", 1).split("?__extra__")[0]
    return ConnectionDetails(
        conn_id=conn_id,
        uri=uri,
        host=host,
        login=conn.login or "",
        password=conn.password or "",
        extra=conn.extra_dejson,
    )
