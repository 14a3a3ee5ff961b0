"""The delivery steps as the ``create_csm_tasks`` DAG runs them: warehouse and connections from Airflow.

Connections: ``crm_tasks`` (HubSpot, token in the password, needs the tasks
read/write scopes), ``csm_slack`` and ``csm_smtp`` (see ``digest``).
"""
from __future__ import annotations

from datetime import date

from customer_health.delivery.crm import CRM_CONN_ID, crm_client, push_tasks
from customer_health.delivery.digest import DigestSettings, send_digests
from customer_health.delivery.status_sync import sync_status
from customer_health.warehouse.db import connect


def push_new_tasks() -> int:
    with connect(autocommit=True) as conn:
        return push_tasks(conn, CRM_CONN_ID)


def sync_from_crm() -> dict:
    with connect(autocommit=True) as conn:
        return sync_status(conn, crm_client())


def send_daily_digests(day: date) -> dict[str, int]:
    with connect(autocommit=True) as conn:
        return send_digests(conn, day, DigestSettings.from_env())
