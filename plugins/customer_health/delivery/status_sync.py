"""Bring CSMs' work in the CRM back: tasks completed, deferred or deleted there close ours.

Why: the playbooks' cooldowns count from when a task was closed, and a task
the CSM finished in HubSpot must not stay open here. Only tasks we pushed
(the ``ch_task_id`` marker property) are read, and only those modified since
the cursor in ``meta.source_state`` (source ``crm_tasks``, stream
``csm_tasks``), re-reading a short overlap because HubSpot's search index
lags writes; applying a status twice changes nothing. Deleted (archived) CRM
tasks never show up as modified, so open tasks pushed a while ago are looked
up by id and the missing ones are dismissed.

Mapping: COMPLETED -> completed, DEFERRED or deleted -> dismissed, any other
status -> open again (reopened, when the CSM reopened it in the CRM and no
newer open task for the same play and account exists). Tasks we auto-closed
are never touched. Every change writes a history row; the cursor advances
in the same transaction as the changes.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from customer_health.delivery.common import require_idle
from customer_health.delivery.crm import MARKER_PROPERTY, TASKS
from customer_health.paths import read_sql
from customer_health.sources.hubspot_client import MODIFIED, HubSpotClient, instant

log = logging.getLogger(__name__)

SOURCE, STREAM = "crm_tasks", "csm_tasks"
OVERLAP = timedelta(minutes=10)
DELETION_GRACE = timedelta(hours=1)  # younger tasks may simply not be in the search index yet
DELETED = "DELETED"  # our name for a CRM task that is gone (deleted or archived)
CLOSED_BY_CRM = {"COMPLETED": ("completed", "completed in CRM"), "DEFERRED": ("dismissed", "dismissed in CRM"),
                 DELETED: ("dismissed", "dismissed in CRM")}


def sync_status(conn: psycopg.Connection, client: HubSpotClient) -> dict:
    """Apply CRM status changes since the last sync; return counts per change and the new cursor."""
    require_idle(conn)
    changes: Counter[str] = Counter()
    with conn.transaction():
        conn.execute(read_sql("delivery/status_sync_lock.sql"))
        cursor = _load_cursor(conn)
        newest, read = cursor, 0
        for task in _modified_since(client, cursor - OVERLAP if cursor else None):
            read += 1
            modified = instant(task["properties"][MODIFIED])
            newest = max(newest or modified, modified)
            changes[_apply(conn, task["id"], task["properties"].get("hs_task_status"), modified)] += 1
        for crm_task_id in _deleted(conn, client):
            changes[_apply(conn, crm_task_id, DELETED, None)] += 1
        if newest:
            _save_cursor(conn, newest)
    changes.pop(None, None)
    return {"read": read, **{k: changes[k] for k in ("completed", "dismissed", "reopened")},
            "cursor": newest.isoformat() if newest else None}


def _load_cursor(conn: psycopg.Connection) -> datetime | None:
    row = _rows(conn, "status_sync_cursor", source=SOURCE, stream=STREAM).fetchone()
    return instant(row["cursor"]) if row and row["cursor"] else None


def _save_cursor(conn: psycopg.Connection, newest: datetime) -> None:
    _rows(conn, "status_sync_save_cursor", source=SOURCE, stream=STREAM, cursor=newest.isoformat())


def _modified_since(client: HubSpotClient, since: datetime | None):
    """Our CRM tasks modified at or after ``since``, oldest first (the client pages past the search cap)."""
    return client.search_modified(
        TASKS,
        filters=[{"propertyName": MARKER_PROPERTY, "operator": "HAS_PROPERTY"}],
        properties=["hs_task_status", MARKER_PROPERTY],
        since=since,
    )


def _deleted(conn: psycopg.Connection, client: HubSpotClient) -> list[str]:
    """Open tasks pushed before the grace period whose CRM task no longer exists (search skips archived ones)."""
    ids = [row["crm_task_id"] for row in _rows(conn, "status_sync_pushed_open_tasks", grace=DELETION_GRACE)]
    present: set[str] = set()
    for start in range(0, len(ids), client.page_size):
        chunk = ids[start:start + client.page_size]  # one page answers a chunk: no paging needed
        body = {"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "IN", "values": chunk}]}],
                "properties": ["hs_task_status"], "limit": client.page_size}
        found = client.request("POST", client.search_path(TASKS), json=body).get("results") or []
        present |= {str(task["id"]) for task in found}
    return [i for i in ids if i not in present]


def _apply(conn: psycopg.Connection, crm_task_id: str, crm_status: str | None, modified: datetime | None) -> str | None:
    """Bring one task in line with its CRM status; the history event written, or None."""
    row = _rows(conn, "status_sync_task", crm_task_id=str(crm_task_id)).fetchone()
    if row is None or row["status"] == "auto_closed":
        return None  # not ours, or closed by the playbooks: the CRM does not reopen it
    task_id, status, dedup_key = row["task_id"], row["status"], row["dedup_key"]
    detail = {"crm_task_id": str(crm_task_id), "crm_status": crm_status}
    if crm_status in CLOSED_BY_CRM:
        new_status, reason = CLOSED_BY_CRM[crm_status]
        if new_status == status:
            return None
        _rows(conn, "status_sync_close_task", status=new_status, closed_at=modified, reason=reason, task_id=task_id)
        return _history(conn, task_id, new_status, detail)
    if status == "open":
        return None
    reopened = _rows(conn, "status_sync_reopen_task", task_id=task_id, dedup_key=dedup_key).rowcount
    if not reopened:
        log.info("task %s was reopened in the CRM but a newer open task exists for %s; left closed", task_id, dedup_key)
        return None
    return _history(conn, task_id, "reopened", detail)


def _history(conn: psycopg.Connection, task_id: int, event: str, detail: dict) -> str:
    _rows(conn, "task_history", task_id=task_id, event=event, detail=json.dumps(detail))
    return event


def _rows(conn: psycopg.Connection, name: str, **params) -> psycopg.Cursor:
    """Run ``include/sql/delivery/<name>.sql`` (one statement); rows come back by column name."""
    return conn.cursor(row_factory=dict_row).execute(read_sql(f"delivery/{name}.sql"), params)
