"""Push open tasks to the CRM (HubSpot tasks), exactly one CRM task per task, in batches of 100.

Why it is safe to retry: a push is "search for the tasks' markers, create
only those absent, record the CRM ids", in one database transaction per batch
that holds the batch's row locks (``FOR UPDATE SKIP LOCKED``, so two runs
never work on the same task). Every CRM task carries the custom property
``ch_task_id`` (the marker: task id, dedup key and day). The search is one
call for the whole batch (``IN`` on the marker, up to 100 values, paged) and
the create is one ``POST /crm/v3/objects/tasks/batch/create`` (up to 100
inputs), HubSpot's documented CRM v3 batch API. If the process dies after
HubSpot created the batch but before the commit, the rows still have no
``crm_task_id``; the next attempt's search finds the tasks by their markers
and records them instead of posting again. The same holds inside one
attempt: a batch create whose answer is lost (timeout, 5xx, dropped
connection) is not re-sent blindly; the whole search-then-create is retried,
with the client's backoff and ``Retry-After``, so the retry posts only the
tasks its search did not find.

A refused batch: without ``objectWriteTraceId`` (multi-status), HubSpot's
batch create is all or nothing, so a 4xx answer (one invalid task, say)
created none of the batch. That batch is then pushed task by task, each with
its own search first, so the good tasks go through, the bad one fails alone
and is named, and a batch that did partly land is still linked, not doubled.

The remaining window, stated plainly: HubSpot's search index lags a create by
seconds, so a retry within that lag may not see the first tasks. Airflow's
retry delay (minutes) is far longer; inside one attempt the backoff is short,
so define ``ch_task_id`` in the portal as a unique-value property and HubSpot
itself refuses the second create (the batch is refused whole, its tasks are
then pushed one by one: the ones already there fail on the unique value, and
the next run links them by search).

Portal setup: a single-line text property ``ch_task_id`` on tasks (Settings >
Properties > Task properties, or ``POST /crm/v3/properties/tasks``).
"""
from __future__ import annotations

import html
import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import psycopg
from psycopg.rows import dict_row

from customer_health.contracts.tasks import FIVE_W1H
from customer_health.delivery.common import Channel, deliver_each, register_channel, require_idle
from customer_health.paths import read_sql
from customer_health.sources.hubspot_client import HubSpotClient, next_after
from customer_health.sources.http import ApiError, NotJSONError
from customer_health.warehouse.sqlfiles import run_sql_file_many

log = logging.getLogger(__name__)

CRM_CONN_ID = "crm_tasks"
TASKS = "tasks"
TASKS_PATH = f"/crm/v3/objects/{TASKS}"
BATCH_CREATE_PATH = f"{TASKS_PATH}/batch/create"
BATCH_SIZE = 100  # HubSpot's most inputs per batch create, and values per IN filter
SEARCH_PAGE = 200  # HubSpot's most results per search page: a batch's markers, and duplicates, in one page
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
    batches = [Batch(tuple(task_ids[i:i + BATCH_SIZE])) for i in range(0, len(task_ids), BATCH_SIZE)]
    return deliver_each(batches, lambda batch: _push_batch(conn, client, batch), what="CRM push")


register_channel(Channel("crm", push_tasks))  # one CRM task per task, by the DAG's push step


@dataclass(frozen=True)
class Batch:
    """Up to BATCH_SIZE task ids pushed together; named by its range in failure messages."""

    task_ids: tuple[int, ...]

    def __str__(self) -> str:
        return f"tasks {self.task_ids[0]}..{self.task_ids[-1]} ({len(self.task_ids)})"


class BatchRefused(RuntimeError):
    """HubSpot refused a batch create (4xx): all or nothing, so none of it was created."""


def _push_batch(conn: psycopg.Connection, client: HubSpotClient, batch: Batch) -> int:
    try:
        return _push_together(conn, client, batch.task_ids)
    except BatchRefused as exc:
        log.warning("HubSpot refused the batch of %s (%s); pushing them one by one", batch, exc)
        return deliver_each(batch.task_ids, lambda task_id: _push_one(conn, client, task_id),
                            what=f"CRM push of {batch}")


def _push_together(conn: psycopg.Connection, client: HubSpotClient, task_ids: tuple[int, ...]) -> int:
    with conn.transaction():
        claim = conn.cursor(row_factory=dict_row).execute(read_sql("delivery/crm_claim_tasks.sql"),
                                                          {"task_ids": list(task_ids)})
        tasks = claim.fetchall()  # those pushed or closed meanwhile, or held by another run, are not here
        if not tasks:
            return 0
        pushed = client.retrying(_find_or_create_batch_once, client, tasks)
        _record_pushes(conn, [(task["task_id"], *pushed[task["task_id"]]) for task in tasks])
    return len(tasks)


def _find_or_create_batch_once(client: HubSpotClient, tasks: list[dict]) -> dict[int, tuple[str, bool]]:
    """Task id -> (CRM id, found existing). One attempt; retried as a whole, so a retry searches before it posts."""
    existing = _find_all(client, [marker(task) for task in tasks])
    for task in tasks:
        if marker(task) in existing:
            log.warning("task %s already exists in the CRM as %s (an earlier attempt died); linking it",
                        task["task_id"], existing[marker(task)])
    missing = [task for task in tasks if marker(task) not in existing]
    created: dict[str, str] = {}
    if missing:
        try:  # exactly one POST for the batch
            answer = client.request_once("POST", BATCH_CREATE_PATH, json={"inputs": [task_payload(t) for t in missing]})
        except NotJSONError:
            raise  # a garbled answer may follow a create: retried as a whole, searching first
        except ApiError as exc:
            raise BatchRefused(str(exc)) from exc
        # HubSpot does not promise results in input order: match them by marker.
        created = {(r.get("properties") or {}).get(MARKER_PROPERTY): str(r["id"]) for r in answer.get("results") or []}
        unanswered = [task["task_id"] for task in missing if marker(task) not in created]
        if unanswered:  # the next attempt's search links whatever was created
            raise RuntimeError(f"HubSpot's batch create answered without tasks {unanswered}")
    return {task["task_id"]: (existing[marker(task)], True) if marker(task) in existing
            else (created[marker(task)], False) for task in tasks}


def _find_all(client: HubSpotClient, markers: list[str]) -> dict[str, str]:
    """Marker -> CRM id of the oldest task carrying it, for the markers that are in the CRM (one search, paged).

    HubSpot wants ``IN`` values of a text property in lowercase and matches
    them regardless of case, so the values go lowercased and the answers are
    matched back the same way (a marker's account id may hold capitals; the
    task id in front keeps the markers of one batch distinct).
    """
    by_key = {value.lower(): value for value in markers}
    body = {
        "filterGroups": [{"filters": [{"propertyName": MARKER_PROPERTY, "operator": "IN", "values": sorted(by_key)}]}],
        "properties": [MARKER_PROPERTY],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "limit": SEARCH_PAGE,
    }
    found, seen = {}, Counter()
    after = None
    while True:
        page = client.search_once(TASKS, {**body, **({"after": after} if after else {})})
        for result in page.get("results") or []:
            value = by_key.get(((result.get("properties") or {}).get(MARKER_PROPERTY) or "").lower())
            if value is not None:
                seen[value] += 1
                found.setdefault(value, str(result["id"]))  # ascending ids: the first is the oldest
        after = next_after(page)
        if not after:
            break
    for value, count in sorted(seen.items()):
        if count > 1:
            log.error("marker %s is on %d CRM tasks; linking the oldest", value, count)
    return found


def _push_one(conn: psycopg.Connection, client: HubSpotClient, task_id: int) -> bool:
    """One task alone: how a refused batch's tasks are pushed, so one bad task fails by itself."""
    with conn.transaction():
        claim = conn.cursor(row_factory=dict_row).execute(read_sql("delivery/crm_claim_task.sql"), {"task_id": task_id})
        task = claim.fetchone()
        if task is None:
            return False  # pushed or closed meanwhile, or another run holds it
        crm_task_id, found = _find_or_create(client, task)
        _record_pushes(conn, [(task_id, crm_task_id, found)])
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
    existing = _find_all(client, [marker(task)]).get(marker(task))
    if existing is not None:
        log.warning("task %s already exists in the CRM as %s (an earlier attempt died); linking it",
                    task["task_id"], existing)
        return existing, True
    created = client.request_once("POST", TASKS_PATH, json=task_payload(task))  # exactly one POST
    return str(created["id"]), False


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


def _record_pushes(conn: psycopg.Connection, pushes: list[tuple[int, str, bool]]) -> None:
    """Each pushed task's CRM id and history line, (task id, CRM id, found existing) each: one pipelined
    batch per statement (two round trips per task cost ~0.5 s a day at 20,000 accounts)."""
    run_sql_file_many(conn, "delivery/crm_record_push.sql", [
        {"task_id": task_id, "crm_task_id": crm_task_id,
         "detail": json.dumps({"crm_task_id": crm_task_id, "found_existing": found_existing})}
        for task_id, crm_task_id, found_existing in pushes])
