"""The HubSpot and Typeform emulators, over real HTTP on loopback, against the
generated demo data: auth, paging, filters, rate limits, faults, tasks."""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime

import pytest
import requests

from demo.emulators import hubspot, typeform

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NPS_FORM = "nps-relationship"


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def crm(demo_data):
    out, _, _ = demo_data
    with hubspot.start(out / "hubspot", TOKEN) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def surveys(demo_data):
    out, _, _ = demo_data
    with typeform.start(out / "typeform", TOKEN) as emulator:
        yield emulator


def search(emulator, object_type: str, body: dict) -> requests.Response:
    return requests.post(f"{emulator.base_url}/crm/v3/objects/{object_type}/search",
                         json=body, headers=AUTH, timeout=10)


def search_all(emulator, object_type: str, body: dict) -> list[dict]:
    results, after = [], None
    while True:
        page = search(emulator, object_type, body | ({"after": after} if after else {}))
        page.raise_for_status()
        results += page.json()["results"]
        after = page.json().get("paging", {}).get("next", {}).get("after")
        if not after:
            return results


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_wrong_or_missing_token_is_refused_with_401(crm, surveys):
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        refused = requests.get(f"{crm.base_url}/crm/v3/owners", headers=headers, timeout=10)
        assert refused.status_code == 401
        assert refused.json()["category"] == "INVALID_AUTHENTICATION"
        refused = requests.get(f"{surveys.base_url}/forms/{NPS_FORM}/responses", headers=headers,
                               timeout=10)
        assert refused.status_code == 401


def test_search_pages_return_every_object_exactly_once(crm, demo_data):
    out, _, _ = demo_data
    expected = [c["id"] for c in load(out / "hubspot" / "companies.json")]
    found = search_all(crm, "companies", {"limit": 7, "properties": ["name"]})

    assert sorted(o["id"] for o in found) == sorted(expected)
    assert len(found) == len(expected) > 7
    assert set(found[0]["properties"]) >= {"name", "hs_lastmodifieddate"}


def test_search_filters_on_modified_date_given_as_epoch_ms_or_iso(crm, demo_data):
    out, _, _ = demo_data
    deals = load(out / "hubspot" / "deals.json")
    stamps = sorted(instant(d["properties"]["hs_lastmodifieddate"]) for d in deals)
    cutoff = stamps[len(stamps) // 2]
    expected = {d["id"] for d in deals
                if instant(d["properties"]["hs_lastmodifieddate"]) >= cutoff}
    sort = [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]

    for value in (str(int(cutoff.timestamp() * 1000)), cutoff.isoformat()):
        body = {"filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate",
                                               "operator": "GTE", "value": value}]}],
                "sorts": sort, "limit": 50}
        found = search_all(crm, "deals", body)
        assert {d["id"] for d in found} == expected
        modified = [instant(d["properties"]["hs_lastmodifieddate"]) for d in found]
        assert modified == sorted(modified)


def test_search_equality_and_membership_filters(crm, demo_data):
    out, _, _ = demo_data
    deals = load(out / "hubspot" / "deals.json")

    def by_kind(*kinds: str) -> set[str]:
        return {d["id"] for d in deals if d["properties"]["deal_kind"] in kinds}

    contracts = search_all(crm, "deals", {"limit": 200, "filterGroups": [{"filters": [
        {"propertyName": "deal_kind", "operator": "EQ", "value": "contract"}]}]})
    expansions = search_all(crm, "deals", {"limit": 200, "filterGroups": [{"filters": [
        {"propertyName": "deal_kind", "operator": "IN", "values": ["upsell", "cross_sell"]}]}]})

    assert {d["id"] for d in contracts} == by_kind("contract")
    assert {d["id"] for d in expansions} == by_kind("upsell", "cross_sell")


def test_search_refuses_limits_above_200(crm):
    assert search(crm, "companies", {"limit": 201}).status_code == 400


def test_owners_page_with_after_tokens(crm, demo_data):
    out, _, _ = demo_data
    owners, after = [], None
    while True:
        page = requests.get(f"{crm.base_url}/crm/v3/owners", headers=AUTH, timeout=10,
                            params={"limit": 3, **({"after": after} if after else {})}).json()
        owners += page["results"]
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            break
    assert owners == load(out / "hubspot" / "owners.json")


def test_rate_limit_answers_429_with_retry_after(demo_data):
    out, _, _ = demo_data
    with hubspot.start(out / "hubspot", TOKEN, rate_limit=(3, 1)) as emulator:
        statuses = [requests.get(f"{emulator.base_url}/crm/v3/owners", headers=AUTH,
                                 timeout=10) for _ in range(4)]
        limited = statuses[-1]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        assert limited.json()["category"] == "RATE_LIMITS"
        wait = int(limited.headers["Retry-After"])
        assert wait >= 1
        time.sleep(wait)
        assert requests.get(f"{emulator.base_url}/crm/v3/owners", headers=AUTH,
                            timeout=10).status_code == 200


def test_fail_first_and_fail_every_inject_503s(demo_data):
    out, _, _ = demo_data
    url = f"/forms/{NPS_FORM}/responses"
    with typeform.start(out / "typeform", TOKEN, fail_first=2) as emulator:
        statuses = [requests.get(emulator.base_url + url, headers=AUTH, timeout=10).status_code
                    for _ in range(3)]
        assert statuses == [503, 503, 200]
        assert [status for _, _, status in emulator.requests] == statuses
    with hubspot.start(out / "hubspot", TOKEN, fail_every=3) as emulator:
        statuses = [requests.get(f"{emulator.base_url}/crm/v3/owners", headers=AUTH,
                                 timeout=10).status_code for _ in range(6)]
        assert statuses == [200, 200, 503, 200, 200, 503]


def test_tasks_are_created_completed_searched_and_kept(demo_data, tmp_path):
    out, _, _ = demo_data
    portal = tmp_path / "hubspot"
    shutil.copytree(out / "hubspot", portal)
    task = {"properties": {"hs_task_subject": "Renewal risk: call the sponsor",
                           "hs_task_body": "Logins fell by half in 30 days.",
                           "hubspot_owner_id": "70010001", "hs_timestamp": "1795000000000",
                           "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH"},
            "associations": [{"to": {"id": "5000000001"}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}]}]}
    with hubspot.start(portal, TOKEN) as emulator:
        tasks = f"{emulator.base_url}/crm/v3/objects/tasks"
        created = requests.post(tasks, json=task, headers=AUTH, timeout=10)
        assert created.status_code == 201
        task_id = created.json()["id"]
        assert created.json()["properties"]["hs_task_status"] == "NOT_STARTED"
        assert requests.post(tasks, json={"properties": {"hs_task_subject": "no time"}},
                             headers=AUTH, timeout=10).status_code == 400

        done = requests.patch(f"{tasks}/{task_id}", headers=AUTH, timeout=10,
                              json={"properties": {"hs_task_status": "COMPLETED"}})
        assert done.status_code == 200
        assert requests.patch(f"{tasks}/404", json={"properties": {}}, headers=AUTH,
                              timeout=10).status_code == 404
    with hubspot.start(portal, TOKEN) as restarted:
        read = requests.get(f"{restarted.base_url}/crm/v3/objects/tasks/{task_id}",
                            headers=AUTH, timeout=10).json()
        completed = search_all(restarted, "tasks", {"filterGroups": [{"filters": [
            {"propertyName": "hs_task_status", "operator": "EQ", "value": "COMPLETED"}]}]})
    assert read["properties"]["hs_task_subject"] == task["properties"]["hs_task_subject"]
    assert [t["id"] for t in completed] == [task_id]
    assert load(portal / "tasks.json")[0]["associations"] == task["associations"]


def test_typeform_before_token_paging_returns_each_response_once(surveys, demo_data):
    out, _, _ = demo_data
    expected = [item["token"] for item in load(out / "typeform" / f"responses_{NPS_FORM}.json")]
    url = f"{surveys.base_url}/forms/{NPS_FORM}/responses"
    seen, before = [], None
    while True:
        page = requests.get(url, headers=AUTH, timeout=10,
                            params={"page_size": 7, **({"before": before} if before else {})})
        items = page.json()["items"]
        if not items:
            break
        seen += items
        before = items[-1]["token"]

    assert sorted(item["token"] for item in seen) == sorted(expected)
    assert len(seen) == len(expected) > 7
    submitted = [instant(item["submitted_at"]) for item in seen]
    assert submitted == sorted(submitted, reverse=True)


def test_typeform_since_and_until_bound_the_submission_time(surveys, demo_data):
    out, _, _ = demo_data
    items = load(out / "typeform" / f"responses_{NPS_FORM}.json")
    stamps = sorted(instant(i["submitted_at"]) for i in items)
    since, until = stamps[len(stamps) // 4], stamps[3 * len(stamps) // 4]
    page = requests.get(f"{surveys.base_url}/forms/{NPS_FORM}/responses", headers=AUTH,
                        timeout=10, params={"page_size": 1000, "since": since.isoformat(),
                                            "until": str(int(until.timestamp()))}).json()
    assert {i["token"] for i in page["items"]} == {
        i["token"] for i in items if since <= instant(i["submitted_at"]) <= until}
    assert page["total_items"] == len(page["items"])


def test_typeform_unknown_form_is_404_and_stopped_emulator_refuses(demo_data):
    out, _, _ = demo_data
    with typeform.start(out / "typeform", TOKEN) as emulator:
        missing = requests.get(f"{emulator.base_url}/forms/nope/responses", headers=AUTH,
                               timeout=10)
        assert missing.status_code == 404
        assert missing.json()["code"] == "FORM_NOT_FOUND"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{emulator.base_url}/forms/{NPS_FORM}/responses", headers=AUTH, timeout=2)
