"""Delivery of CSM tasks over real sockets: the HubSpot emulator, a local Slack webhook and a local SMTP server.

What must hold: one CRM task per task whatever fails and whoever runs at the
same time; one digest per recipient, channel and day across reruns, a failed
send retried; Japanese text intact end to end; CRM status changes close our
tasks (never reopening ones the playbooks auto-closed), with history.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
import requests

from customer_health.delivery import crm
from customer_health.delivery.common import DeliveryFailed
from customer_health.delivery.crm import crm_client, push_tasks
from customer_health.delivery.digest import DigestSettings, send_digests
from customer_health.delivery.status_sync import sync_status
from customer_health.scoring.pipeline import build_accounts
from customer_health.sources import hubspot_client
from demo.emulators import hubspot
from demo.receivers import SlackReceiver, SmtpReceiver
from tests.helpers import load_rows

TOKEN = "t0ken"
DAY = date(2026, 11, 20)
TASKS = "/crm/v3/objects/tasks"
BATCH_CREATE = f"{TASKS}/batch/create"
JA_TITLE = "契約更新リスク: 株式会社さくら商事に連絡する"
JA_BODY = "ログイン率が30%低下しました。\n更新の90日前です。担当者と面談を設定してください。"
JA_REASON = "ヘルススコアが7日で12ポイント低下"
AIKO, BEN = "aiko@example.com", "ben@example.com"


# --- fixtures and helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def portal(tmp_path):
    (tmp_path / "owners.json").write_text("[]", encoding="utf-8")
    return tmp_path


def use_crm(monkeypatch, emulator) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CRM_TASKS", f"http://:{TOKEN}@{emulator.base_url.removeprefix('http://')}")


@pytest.fixture
def crm_api(portal, monkeypatch):
    with hubspot.start(portal, TOKEN) as emulator:
        use_crm(monkeypatch, emulator)
        yield emulator


def add_task(conn, *, account="1001", play="renewal_risk", day=DAY, status="open", priority="high",
             title="Renewal risk at Account 1001", body="Logins fell 30 %.", reason="score fell 12 points in 7 days",
             owner_id="501", owner_email=AIKO, queue=None, due_in=7, channels=("crm", "slack", "email")) -> int:
    five = {"who": "the account CSM", "what": "call the sponsor", "when": "this week", "where": "video call",
            "why": reason, "how": "bring the usage report"}
    (task_id,) = conn.execute(
        """INSERT INTO marts.csm_tasks (play, account_id, dedup_key, day, playbooks_version, status, priority, title,
                                        body, reason, owner_id, owner_email, queue, due_date, channels, five_w1h)
           VALUES (%s, %s, %s, %s, 'v1', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING task_id""",
        [play, account, f"{play}/{account}", day, status, priority, title, body, reason, owner_id, owner_email, queue,
         day + timedelta(days=due_in), list(channels), json.dumps(five, ensure_ascii=False)],
    ).fetchone()
    return task_id


def creates(emulator) -> list[tuple]:
    """Task-create requests the CRM accepted (one task, or a batch of them)."""
    return [r for r in emulator.requests if r[0] == "POST" and r[1] in (TASKS, BATCH_CREATE) and r[2] == 201]


def crm_tasks(portal) -> dict[str, dict]:
    """What the emulator stored (tasks.json keeps the associations too)."""
    return {t["id"]: t for t in json.loads((portal / "tasks.json").read_text(encoding="utf-8"))}


def task_row(conn, task_id: int) -> dict:
    cur = conn.execute("SELECT * FROM marts.csm_tasks WHERE task_id = %s", [task_id])
    return dict(zip([c.name for c in cur.description], cur.fetchone()))


def history(conn, task_id: int) -> list[tuple[str, dict]]:
    return conn.execute("SELECT event, detail FROM marts.csm_task_history WHERE task_id = %s ORDER BY at",
                        [task_id]).fetchall()


def patch_status(emulator, crm_task_id: str, status: str) -> None:
    """A CSM changing the task in HubSpot."""
    response = requests.patch(f"{emulator.base_url}{TASKS}/{crm_task_id}",
                              json={"properties": {"hs_task_status": status}},
                              headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    response.raise_for_status()


# --- CRM push ----------------------------------------------------------------------------------------------------


def test_push_creates_one_crm_task_per_task_with_owner_due_date_and_association(warehouse, crm_api, portal):
    ja = add_task(warehouse, title=JA_TITLE, body=JA_BODY, reason=JA_REASON)
    queued = add_task(warehouse, account="1002", priority="low", owner_id=None, owner_email=None, queue="cs-unassigned")
    add_task(warehouse, account="1003", channels=("slack",))
    add_task(warehouse, account="1004", status="auto_closed")

    assert push_tasks(warehouse, "crm_tasks") == 2
    assert [r[1] for r in creates(crm_api)] == [BATCH_CREATE], "both in one batch create"

    stored = crm_tasks(portal)
    assert len(stored) == 2
    first = stored[task_row(warehouse, ja)["crm_task_id"]]
    expected = {"hs_task_subject": JA_TITLE, "hubspot_owner_id": "501", "hs_task_status": "NOT_STARTED",
                "hs_task_priority": "HIGH", "hs_task_type": "TODO", "ch_task_id": f"{ja}/renewal_risk/1001/2026-11-20",
                "hs_timestamp": str(int(datetime(2026, 11, 27, 12, tzinfo=UTC).timestamp() * 1000))}
    assert {name: first["properties"].get(name) for name in expected} == expected
    assert "ログイン率が30%低下しました。<br>更新の90日前です。" in first["properties"]["hs_task_body"]
    assert JA_REASON in first["properties"]["hs_task_body"]
    assert first["associations"] == [{"to": {"id": "1001"}, "types": [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}]}]
    second = stored[task_row(warehouse, queued)["crm_task_id"]]
    assert "hubspot_owner_id" not in second["properties"] and second["properties"]["hs_task_priority"] == "LOW"

    for task_id in (ja, queued):
        row = task_row(warehouse, task_id)
        assert row["pushed_at"] is not None
        assert history(warehouse, task_id) == [("pushed", {"crm_task_id": row["crm_task_id"], "found_existing": False})]

    assert push_tasks(warehouse, "crm_tasks") == 0, "a rerun finds nothing left to push"
    assert len(creates(crm_api)) == 1 and len(crm_tasks(portal)) == 2


def test_a_crash_between_the_post_and_the_commit_does_not_post_twice(warehouse, crm_api, monkeypatch):
    task_id = add_task(warehouse)
    record = crm._record_pushes
    crashes = []

    def crash_once(*args):
        if not crashes:
            crashes.append(args)
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return record(*args)

    monkeypatch.setattr(crm, "_record_pushes", crash_once)
    with pytest.raises(DeliveryFailed, match="1 failed, 0 delivered"):
        push_tasks(warehouse, "crm_tasks")
    assert task_row(warehouse, task_id)["crm_task_id"] is None, "the transaction rolled back"
    assert len(creates(crm_api)) == 1, "but the CRM task exists"

    assert push_tasks(warehouse, "crm_tasks") == 1
    assert len(creates(crm_api)) == 1, "the retry found the task instead of posting again"
    crm_task_id = task_row(warehouse, task_id)["crm_task_id"]
    assert crm_task_id == crashes[0][1][0][1], "(conn, [(task id, CRM id, found)])"
    assert history(warehouse, task_id) == [("pushed", {"crm_task_id": crm_task_id, "found_existing": True})]


def test_a_create_whose_answer_is_lost_is_not_posted_again(warehouse, crm_api, monkeypatch):
    task_id = add_task(warehouse)
    client = crm_client()
    send = client.session.request
    lost = []

    def lose_the_create_answer(method, url, **kwargs):
        response = send(method, url, **kwargs)
        if method == "POST" and url.endswith(BATCH_CREATE) and not lost:
            lost.append(response)
            raise requests.ConnectionError("connection reset after the request was sent")
        return response

    monkeypatch.setattr(client.session, "request", lose_the_create_answer)
    assert push_tasks(warehouse, client) == 1
    assert len(creates(crm_api)) == 1
    assert history(warehouse, task_id)[0][1]["found_existing"] is True


def test_5xx_and_429_from_the_crm_are_retried(warehouse, portal, monkeypatch):
    monkeypatch.setattr(crm, "BATCH_SIZE", 1)  # six requests for three tasks: enough to meet the rate limit
    task_ids = [add_task(warehouse, account=str(1001 + i)) for i in range(3)]
    with hubspot.start(portal, TOKEN, rate_limit=(4, 1.0), fail_first=2) as emulator:
        use_crm(monkeypatch, emulator)
        assert push_tasks(warehouse, "crm_tasks") == 3
    statuses = [status for _, _, status in emulator.requests]
    assert statuses.count(503) == 2 and 429 in statuses
    assert len(creates(emulator)) == 3
    assert all(task_row(warehouse, t)["crm_task_id"] for t in task_ids)


def test_two_pushes_at_once_never_post_a_task_twice(warehouse, warehouse_url, crm_api, portal, monkeypatch):
    task_ids = [add_task(warehouse, account=str(2000 + i)) for i in range(20)]
    monkeypatch.setattr(crm, "BATCH_SIZE", 2)  # ten batches to share
    find_or_create = crm._find_or_create_batch_once

    def slowly(client, tasks):  # keep both runs in flight together
        time.sleep(0.02)
        return find_or_create(client, tasks)

    monkeypatch.setattr(crm, "_find_or_create_batch_once", slowly)
    start, pushed, errors = threading.Barrier(2), [], []

    def run() -> None:
        try:
            with psycopg.connect(warehouse_url, autocommit=True) as conn:
                client = crm_client()
                start.wait()
                pushed.append(push_tasks(conn, client))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()

    assert not errors
    assert sum(pushed) == 20 and min(pushed) > 0, f"both runs pushed a share: {pushed}"
    assert len(crm_tasks(portal)) == 20
    assert len({task_row(warehouse, t)["crm_task_id"] for t in task_ids}) == 20


def in_filter_sizes(search_bodies: list[dict]) -> list[int]:
    """How many values each IN filter of these search bodies listed."""
    return [len(f["values"]) for body in search_bodies for g in body["filterGroups"] for f in g["filters"]]


def test_a_batch_push_of_more_than_100_tasks_is_exactly_once_across_a_crash_after_the_create(
        warehouse, crm_api, portal, monkeypatch):
    task_ids = [add_task(warehouse, account=str(5000 + i)) for i in range(150)]
    record, calls = crm._record_pushes, []

    def crash_in_the_second_batch(*args):
        calls.append(args)
        if len(calls) == 2:  # the second batch is created in the CRM; its transaction dies before the commit
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return record(*args)

    monkeypatch.setattr(crm, "_record_pushes", crash_in_the_second_batch)
    with pytest.raises(DeliveryFailed, match="1 failed, 100 delivered"):
        push_tasks(warehouse, "crm_tasks")
    assert [r[1] for r in creates(crm_api)] == [BATCH_CREATE] * 2, "100 then 50 tasks, one call each"
    assert len(crm_tasks(portal)) == 150
    assert sum(task_row(warehouse, t)["crm_task_id"] is None for t in task_ids) == 50, "the second batch rolled back"

    assert push_tasks(warehouse, "crm_tasks") == 50
    assert len(creates(crm_api)) == 2, "the retry found the second batch instead of posting it again"
    stored = crm_tasks(portal)
    assert len(stored) == 150
    for task_id in task_ids:
        row = task_row(warehouse, task_id)
        assert stored[row["crm_task_id"]]["properties"]["ch_task_id"] == crm.marker(row)
        assert history(warehouse, task_id) == [("pushed", {"crm_task_id": row["crm_task_id"],
                                                           "found_existing": task_id in task_ids[100:]})]


def test_a_marker_with_capitals_is_found_by_the_lowercase_in_search(warehouse, crm_api, portal, monkeypatch):
    task_id = add_task(warehouse, account="ACME-7")  # an account id from a non-HubSpot source
    record = crm._record_pushes
    crashes = []

    def crash_once(*args):
        if not crashes:
            crashes.append(args)
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return record(*args)

    monkeypatch.setattr(crm, "_record_pushes", crash_once)
    with pytest.raises(DeliveryFailed):
        push_tasks(warehouse, "crm_tasks")
    assert push_tasks(warehouse, "crm_tasks") == 1
    assert len(creates(crm_api)) == 1 and len(crm_tasks(portal)) == 1
    assert history(warehouse, task_id)[0][1] == {"crm_task_id": crashes[0][1][0][1], "found_existing": True}


def test_a_batch_create_whose_answer_is_lost_is_retried_by_searching_first(warehouse, crm_api, portal, monkeypatch):
    task_ids = [add_task(warehouse, account=str(6000 + i)) for i in range(130)]
    client = crm_client()
    send = client.session.request
    bodies, lost = [], []

    def lose_the_second_create_answer(method, url, **kwargs):
        response = send(method, url, **kwargs)
        if url.endswith(f"{TASKS}/search"):
            bodies.append(kwargs["json"])
        if url.endswith(BATCH_CREATE) and len(creates(crm_api)) == 2 and not lost:
            lost.append(response)
            raise requests.ConnectionError("connection reset after the request was sent")
        return response

    monkeypatch.setattr(client.session, "request", lose_the_second_create_answer)
    assert push_tasks(warehouse, client) == 130
    assert len(creates(crm_api)) == 2 and len(crm_tasks(portal)) == 130
    assert in_filter_sizes(bodies) == [100, 30, 30], "one IN search per batch, and one more before the retry"
    assert [history(warehouse, t)[0][1]["found_existing"] for t in task_ids] == [False] * 100 + [True] * 30
    assert len({task_row(warehouse, t)["crm_task_id"] for t in task_ids}) == 130


def test_a_garbled_batch_create_answer_is_retried_not_taken_for_a_refusal(warehouse, crm_api, portal, monkeypatch):
    task_ids = [add_task(warehouse, account=str(8000 + i)) for i in range(3)]
    client = crm_client()
    send = client.session.request
    bodies = []

    def cut_the_create_answer(method, url, **kwargs):
        response = send(method, url, **kwargs)
        if url.endswith(f"{TASKS}/search"):
            bodies.append(kwargs["json"])
        if url.endswith(BATCH_CREATE):
            response._content = response.content[:20]  # a proxy cut it off: the tasks exist all the same
        return response

    monkeypatch.setattr(client.session, "request", cut_the_create_answer)
    assert push_tasks(warehouse, client) == 3
    assert len(creates(crm_api)) == 1 and len(crm_tasks(portal)) == 3
    assert [history(warehouse, t)[0][1]["found_existing"] for t in task_ids] == [True] * 3
    assert in_filter_sizes(bodies) == [3, 3], "the batch retried whole (one search again), not split one by one"


def test_a_refused_batch_is_pushed_one_by_one_so_only_the_bad_task_fails(warehouse, crm_api, portal, monkeypatch):
    good, bad, other = (add_task(warehouse, account=str(7000 + i)) for i in range(3))
    payload = crm.task_payload

    def without_due_time_for_the_bad_task(task):
        body = payload(task)
        if task["task_id"] == bad:
            del body["properties"]["hs_timestamp"]  # HubSpot refuses a task without hs_timestamp
        return body

    monkeypatch.setattr(crm, "task_payload", without_due_time_for_the_bad_task)
    with pytest.raises(DeliveryFailed, match=rf"1 failed, 2 delivered.*{bad}: HubSpot answered 400"):
        push_tasks(warehouse, "crm_tasks")
    refused = [r for r in crm_api.requests if r[1] == BATCH_CREATE]
    assert [status for *_, status in refused] == [400]
    assert [r[1] for r in creates(crm_api)] == [TASKS, TASKS], "all or nothing: the two good ones came one by one"
    assert len(crm_tasks(portal)) == 2
    assert task_row(warehouse, good)["crm_task_id"] and task_row(warehouse, other)["crm_task_id"]
    assert task_row(warehouse, bad)["crm_task_id"] is None


def test_the_emulator_holds_batch_create_and_in_to_hubspots_limits(crm_api, portal):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    task = {"properties": {"hs_timestamp": "1764590400000", "ch_task_id": "x"}}
    too_many = requests.post(f"{crm_api.base_url}{BATCH_CREATE}", json={"inputs": [task] * 101}, headers=headers,
                             timeout=5)
    assert too_many.status_code == 400 and "at most 100" in too_many.json()["message"]
    one_bad = requests.post(f"{crm_api.base_url}{BATCH_CREATE}", headers=headers, timeout=5,
                            json={"inputs": [task, {"properties": {"ch_task_id": "y"}}]})
    assert one_bad.status_code == 400 and not (portal / "tasks.json").exists(), "all or nothing"
    search = {"filterGroups": [{"filters": [{"propertyName": "ch_task_id", "operator": "IN",
                                             "values": [str(i) for i in range(101)]}]}]}
    wide = requests.post(f"{crm_api.base_url}{TASKS}/search", json=search, headers=headers, timeout=5)
    assert wide.status_code == 400 and "at most 100 values" in wide.json()["message"]


# --- digests -----------------------------------------------------------------------------------------------------


@pytest.fixture
def slack(monkeypatch):
    with SlackReceiver() as receiver:
        monkeypatch.setenv("AIRFLOW_CONN_CSM_SLACK", receiver.connection("services/T000/B000/csm"))
        monkeypatch.setenv("AIRFLOW_CONN_CSM_SLACK_QUEUE", receiver.connection("services/T000/B000/queue"))
        yield receiver


@pytest.fixture
def smtp(monkeypatch):
    with SmtpReceiver() as receiver:
        monkeypatch.setenv("AIRFLOW_CONN_CSM_SMTP", receiver.connection("customer-health@example.com"))
        yield receiver


SETTINGS = DigestSettings(queue_slack_conn_id="csm_slack_queue", queue_email="cs-queue@example.com")


def digest_day(conn) -> dict[str, list[int]]:
    """Aiko: a Japanese high-priority task and a low one; Ben: one; the queue: one; and tasks no digest lists."""
    tasks = {
        "aiko": [add_task(conn, title=JA_TITLE, body=JA_BODY, reason=JA_REASON),
                 add_task(conn, account="1005", play="nps_detractor", priority="low",
                          title="Call about the NPS score")],
        "ben": [add_task(conn, account="1002", priority="medium", owner_id="502", owner_email=BEN, title="Ben's task")],
        "queue": [add_task(conn, account="1003", owner_id=None, owner_email=None, queue="cs-unassigned",
                           title="Unassigned account 1003")],
    }
    add_task(conn, account="1006", day=DAY - timedelta(days=1), title="yesterday's")
    add_task(conn, account="1007", status="auto_closed", title="closed before the digest")
    add_task(conn, account="1008", channels=("crm",), title="CRM only")
    return tasks


def test_one_digest_per_csm_channel_and_day_across_reruns(warehouse, slack, smtp):
    tasks = digest_day(warehouse)

    assert send_digests(warehouse, DAY, SETTINGS) == {"slack": 3, "email": 3}
    assert send_digests(warehouse, DAY, SETTINGS) == {"slack": 0, "email": 0}, "a rerun sends nothing"

    assert sorted(m.path for m in slack.messages) == ["/services/T000/B000/csm"] * 2 + ["/services/T000/B000/queue"]
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [AIKO, BEN, "cs-queue@example.com"]
    assert sorted(warehouse.execute("SELECT owner_email, channel, tasks FROM meta.digests_sent WHERE day = %s",
                                    [DAY]).fetchall()) == sorted(
        (r, c, n) for r, n in ((AIKO, 2), (BEN, 1), ("queue:cs-unassigned", 1)) for c in ("slack", "email"))
    for task_id in [t for ids in tasks.values() for t in ids]:
        assert sorted(d["channel"] for e, d in history(warehouse, task_id) if e == "in_digest") == ["email", "slack"]

    everything = " ".join(m.json["text"] for m in slack.messages)
    assert "yesterday's" not in everything and "closed before" not in everything and "CRM only" not in everything


def test_a_channel_without_a_connection_is_off_and_the_other_still_sends(warehouse, smtp, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_CSM_SLACK", raising=False)
    digest_day(warehouse)
    assert send_digests(warehouse, DAY, SETTINGS) == {"slack": 0, "email": 3}
    assert warehouse.execute("SELECT DISTINCT channel FROM meta.digests_sent").fetchall() == [("email",)]


def test_japanese_survives_slack_json_and_email_encoding(warehouse, slack, smtp):
    digest_day(warehouse)
    send_digests(warehouse, DAY, SETTINGS)

    (to_aiko,) = [m for m in slack.messages if AIKO in m.json["text"]]
    assert to_aiko.content_type.startswith("application/json")
    text = to_aiko.json["text"]
    assert JA_TITLE in text and JA_REASON in text
    assert text.index("High priority") < text.index(JA_TITLE) < text.index("Low priority")

    (mail,) = [m for m in smtp.messages if m.rcpt_tos == [AIKO]]
    mail.raw.decode("ascii")  # 7-bit on the wire: encoded words and base64, nothing that needs SMTPUTF8
    message = mail.message
    assert JA_TITLE in message["Subject"] and "=?utf-8?" in mail.raw.decode("ascii").split("\n\n")[0].lower()
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/html"]
    assert part.get_content_charset() == "utf-8"
    assert JA_TITLE in part.get_content() and JA_REASON in part.get_content()
    assert message["Message-ID"].startswith("<digest.20261120.")


def test_a_failed_send_is_rolled_back_and_sent_by_the_next_run(warehouse, smtp, monkeypatch):
    digest_day(warehouse)
    with SlackReceiver(fail_first=1) as slack:
        monkeypatch.setenv("AIRFLOW_CONN_CSM_SLACK", slack.connection("services/T000/B000/csm"))
        monkeypatch.setenv("AIRFLOW_CONN_CSM_SLACK_QUEUE", slack.connection("services/T000/B000/queue"))
        with pytest.raises(DeliveryFailed, match="1 failed, 5 delivered"):
            send_digests(warehouse, DAY, SETTINGS)
        assert warehouse.execute("SELECT count(*) FROM meta.digests_sent WHERE owner_email = %s AND channel = 'slack'",
                                 [AIKO]).fetchone() == (0,)

        assert send_digests(warehouse, DAY, SETTINGS) == {"slack": 1, "email": 0}
        assert slack.attempts == 4 and len(slack.messages) == 3
        assert sum(AIKO in m.json["text"] for m in slack.messages) == 1


# --- status sync -------------------------------------------------------------------------------------------------


def test_status_sync_closes_completed_deferred_and_deleted_tasks_never_reopening_auto_closed(warehouse, crm_api):
    done, deferred, deleted, auto_closed, untouched = (add_task(warehouse, account=str(3000 + i)) for i in range(5))
    push_tasks(warehouse, crm_client())
    crm_id = {t: task_row(warehouse, t)["crm_task_id"] for t in (done, deferred, deleted, auto_closed, untouched)}
    patch_status(crm_api, crm_id[done], "COMPLETED")
    patch_status(crm_api, crm_id[deferred], "DEFERRED")
    patch_status(crm_api, crm_id[auto_closed], "COMPLETED")
    crm_api._server.vendor.objects["tasks"].pop(crm_id[deleted])  # the emulator has no DELETE; archived = gone
    warehouse.execute("UPDATE marts.csm_tasks SET pushed_at = pushed_at - interval '2 hours'")
    warehouse.execute("UPDATE marts.csm_tasks SET status = 'auto_closed', closed_at = now() WHERE task_id = %s",
                      [auto_closed])

    result = sync_status(warehouse, crm_client())
    assert (result["completed"], result["dismissed"], result["reopened"]) == (1, 2, 0)
    states = {t: (r["status"], r["close_reason"], r["closed_at"] is not None)
              for t in crm_id for r in [task_row(warehouse, t)]}
    assert states == {done: ("completed", "completed in CRM", True), deferred: ("dismissed", "dismissed in CRM", True),
                      deleted: ("dismissed", "dismissed in CRM", True), auto_closed: ("auto_closed", None, True),
                      untouched: ("open", None, False)}
    assert [e for e, _ in history(warehouse, done)] == ["pushed", "completed"]
    assert history(warehouse, deferred)[-1] == ("dismissed",
                                                {"crm_task_id": crm_id[deferred], "crm_status": "DEFERRED"})
    assert history(warehouse, deleted)[-1] == ("dismissed", {"crm_task_id": crm_id[deleted], "crm_status": "DELETED"})
    assert [e for e, _ in history(warehouse, auto_closed)] == ["pushed"]
    (cursor,) = warehouse.execute(
        "SELECT cursor FROM meta.source_state WHERE source = 'crm_tasks' AND stream = 'csm_tasks'").fetchone()
    assert cursor == result["cursor"]

    again = sync_status(warehouse, crm_client())
    assert (again["completed"], again["dismissed"], again["reopened"]) == (0, 0, 0), "applying twice changes nothing"

    patch_status(crm_api, crm_id[done], "NOT_STARTED")
    patch_status(crm_api, crm_id[auto_closed], "NOT_STARTED")
    assert sync_status(warehouse, crm_client())["reopened"] == 1
    assert task_row(warehouse, done)["status"] == "open" and task_row(warehouse, done)["closed_at"] is None
    assert task_row(warehouse, auto_closed)["status"] == "auto_closed", "what the playbooks closed stays closed"
    assert [e for e, _ in history(warehouse, done)] == ["pushed", "completed", "reopened"]


def test_status_sync_pages_past_the_search_cap_through_the_shared_client(warehouse, crm_api, monkeypatch):
    """The cap restart lives in HubSpotClient only; a cap of 30 here stands for HubSpot's 10,000."""
    tasks = [add_task(warehouse, account=str(4000 + i)) for i in range(45)]
    assert push_tasks(warehouse, crm_client()) == 45  # before the cap shrinks: the push's search pages by 200
    monkeypatch.setattr(hubspot, "SEARCH_RESULT_CAP", 30)
    monkeypatch.setattr(hubspot_client, "SEARCH_RESULT_CAP", 30)
    for task_id in tasks:
        patch_status(crm_api, task_row(warehouse, task_id)["crm_task_id"], "COMPLETED")
        time.sleep(0.002)  # distinct modification times, as CSMs closing tasks one by one make them
    crm_api.requests.clear()

    result = sync_status(warehouse, crm_client(page_size=10))
    assert result["completed"] == 45
    assert {task_row(warehouse, t)["status"] for t in tasks} == {"completed"}
    searches = [r for r in crm_api.requests if r[1] == f"{TASKS}/search"]
    assert all(status == 200 for _, _, status in searches), "no search paged into the cap"
    # Three pages reach the cap; the restart from task 30's modification time re-reads it and pages 16 more.
    assert len(searches) == 5


def test_digests_name_accounts_as_marts_accounts_had_them_on_the_day(warehouse, warehouse_url, slack):
    load_rows(warehouse_url, "crm_accounts", [{"account_id": "1001", "name": "Kabushiki Old", "created_at": "2026-01-01"}])
    build_accounts(DAY, warehouse_url)
    load_rows(warehouse_url, "crm_accounts", [{"account_id": "1001", "name": "Kabushiki New", "created_at": "2026-01-01"}])
    build_accounts(DAY + timedelta(days=1), warehouse_url)
    add_task(warehouse)

    assert send_digests(warehouse, DAY, SETTINGS)["slack"] == 1
    text = " ".join(m.json["text"] for m in slack.messages)
    assert "Kabushiki Old" in text and "Kabushiki New" not in text
