"""Push open tasks to the CRM (HubSpot tasks), exactly one CRM task per task.

Why it is safe to retry: a push is "search for the task's marker, create only
if absent, record the CRM id", in one database transaction that holds the
task's row lock (``FOR UPDATE SKIP LOCKED``, so two runs never work on the
same task). Every CRM task carries the custom property ``ch_task_id`` (the
marker: task id, dedup key and day). If the process dies after HubSpot
created the task but before the commit, the row still has no
``crm_task_id``; the next attempt's search finds the task by its marker and
records it instead of posting again. The same holds inside one attempt: a
POST whose answer is lost (timeout, 5xx, dropped connection) is not re-sent
blindly; the whole search-then-create is retried, with the client's backoff
and ``Retry-After``.

The remaining window, stated plainly: HubSpot's search index lags a create by
seconds, so a retry within that lag may not see the first task. Airflow's
retry delay (minutes) is far longer; inside one attempt the backoff is short,
so define ``ch_task_id`` in the portal as a unique-value property and HubSpot
itself refuses the second create (that task then fails, and the next run
links it by search).

Portal setup: a single-line text property ``ch_task_id`` on tasks (Settings >
Properties > Task properties, or ``POST /crm/v3/properties/tasks``).
"""
from __future__ import annotations

import html
import json
import logging
from datetime import UTC, date, datetime, time

import psycopg
from psycopg.rows import dict_row

from customer_health.contracts.tasks import FIVE_W1H
from customer_health.delivery.common import Channel, deliver_each, register_channel, require_idle
from customer_health.paths import read_sql
from customer_health.sources.hubspot_client import HubSpotClient
from customer_health.warehouse.sqlfiles import run_sql_file

log = logging.getLogger(__name__)

CRM_CONN_ID = "crm_tasks"
TASKS = "tasks"
TASKS_PATH = f"/crm/v3/objects/{TASKS}"
MARKER_PROPERTY = "ch_task_id"
TASK_TO_COMPANY = 192  # HubSpot-defined association type: task -> company
PRIORITIES = {"high": "HIGH", "medium": "MEDIUM", "low": "LOW"}


def crm_client(conn_id: str = CRM_CONN_ID, *, max_attempts: int = 8, page_size: int = 100) -> HubSpotClient:
    """The HubSpot client of the CRM named by an Airflow connection (token in the password)."""
    return HubSpotClient.from_conn_id(conn_id, max_attempts=max_attempts, page_size=page_size)


def push_tasks(conn: psycopg.Connection, client_or_conn_id: HubSpotClient | str, *, limit: int | None = None) -> int:
    """Create a CRM task for every open task routed to 'crm' that has none yet; return how many were pushed."""
    require_idle(conn)
    client = client_or_conn_id if isinstance(client_or_conn_id, HubSpotClient) else crm_client(client_or_conn_id)
    with conn.transaction():
        pending = conn.cursor(row_factory=dict_row).execute(read_sql("delivery/crm_pending_tasks.sql"), {"limit": limit})
        task_ids = [row["task_id"] for row in pending]
    return deliver_each(task_ids, lambda task_id: _push_one(conn, client, task_id), what="CRM push")


register_channel(Channel("crm", push_tasks))  # one CRM task per task, by the DAG's push step


def _push_one(conn: psycopg.Connection, client: HubSpotClient, task_id: int) -> bool:
    with conn.transaction():
        claim = conn.cursor(row_factory=dict_row).execute(read_sql("delivery/crm_claim_task.sql"), {"task_id": task_id})
        task = claim.fetchone()
        if task is None:
            return False  # pushed or closed meanwhile, or another run holds it
        crm_task_id, found = _find_or_create(client, task)
        _record_push(conn, task_id, crm_task_id, found)
    return True


def marker(task: dict) -> str:
    """Stable per task row, unique across warehouse rebuilds that reuse task ids."""
    return f"{task['task_id']}/{task['dedup_key']}/{task['day']:%Y-%m-%d}"


def _find_or_create(client: HubSpotClient, task: dict) -> tuple[str, bool]:
    """(CRM id, found existing). Retried as a whole so a retry searches before it posts again.

    The client retries each request it is given; a create must not be retried
    on its own, so the client's retry policy wraps single-shot requests.
    """
    return client.retrying(_find_or_create_once, client, task)


def _find_or_create_once(client: HubSpotClient, task: dict) -> tuple[str, bool]:
    existing = _find(client, marker(task))
    if existing is not None:
        log.warning("task %s already exists in the CRM as %s (an earlier attempt died); linking it",
                    task["task_id"], existing)
        return existing, True
    created = client.request_once("POST", TASKS_PATH, json=task_payload(task))  # exactly one POST
    return str(created["id"]), False


def _find(client: HubSpotClient, value: str) -> str | None:
    body = {
        "filterGroups": [{"filters": [{"propertyName": MARKER_PROPERTY, "operator": "EQ", "value": value}]}],
        "properties": [MARKER_PROPERTY],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "limit": 10,
    }
    results = client.search_once(TASKS, body).get("results") or []
    if len(results) > 1:
        log.error("marker %s is on %d CRM tasks; linking the oldest", value, len(results))
    return str(results[0]["id"]) if results else None


def task_payload(task: dict) -> dict:
    """The HubSpot create-task body: properties, and the association to the account's company."""
    properties = {
        "hs_task_subject": task["title"],
        "hs_task_body": _body_html(task),
        "hs_timestamp": due_timestamp(task["due_date"]),
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": PRIORITIES[task["priority"]],
        "hs_task_type": "TODO",
        MARKER_PROPERTY: marker(task),
    }
    if task["owner_id"]:
        properties["hubspot_owner_id"] = task["owner_id"]  # none: unassigned, the fallback queue picks it up
    return {
        "properties": properties,
        "associations": [{"to": {"id": task["account_id"]},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_COMPANY}]}],
    }


def due_timestamp(due: date) -> int:
    """Epoch ms of noon UTC on the due date: the same calendar day from UTC-11 to UTC+11 (Tokyo and San Francisco)."""
    return int(datetime.combine(due, time(12), tzinfo=UTC).timestamp() * 1000)


def _body_html(task: dict) -> str:
    """Task notes are rich text in HubSpot: the body, why it fired, and the 5W1H a junior CSM acts on."""
    five = task["five_w1h"] if isinstance(task["five_w1h"], dict) else json.loads(task["five_w1h"])
    lines = "".join(
        f"<li><b>{key.capitalize()}:</b> {html.escape(str(five[key]))}</li>" for key in FIVE_W1H if five.get(key)
    )
    body = html.escape(task["body"]).replace("\n", "<br>")
    return f"<p>{body}</p><p><b>Reason:</b> {html.escape(task['reason'])}</p>" + (f"<ul>{lines}</ul>" if lines else "")


def _record_push(conn: psycopg.Connection, task_id: int, crm_task_id: str, found_existing: bool) -> None:
    detail = json.dumps({"crm_task_id": crm_task_id, "found_existing": found_existing})
    run_sql_file(conn, "delivery/crm_record_push.sql", {"task_id": task_id, "crm_task_id": crm_task_id, "detail": detail})
