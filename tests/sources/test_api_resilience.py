"""API sources against the emulators over real HTTP: paging, 429 with Retry-After, 5xx, bad credentials."""
from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

import pytest

from customer_health.contracts.streams import STREAMS
from customer_health.sources import hubspot_client
from customer_health.sources.base import ConnectionDetails, Spool
from customer_health.sources.http import ApiError
from customer_health.sources.hubspot import HubSpotExtractor, HubSpotOptions, HubSpotStream
from customer_health.sources.typeform import TypeformExtractor, TypeformOptions, TypeformStream
from demo.emulators import hubspot, typeform

ACCOUNT_COLUMNS = {"account_id": "id", "name": "name", "parent_account_id": "hs_parent_company_id",
                   "csm_owner_id": "hubspot_owner_id", "employees": "numberofemployees", "industry": "industry",
                   "region": "region", "lifecycle_stage": "lifecyclestage", "created_at": "createdate"}


@pytest.fixture
def portal(tmp_path):
    companies = [
        {"id": str(1000 + i), "archived": False, "createdAt": "2026-01-01T00:00:00.000Z",
         "updatedAt": f"2026-11-{1 + i % 20:02d}T00:00:00.000Z",
         "properties": {"name": f"Company {i}", "region": "EMEA", "hs_lastmodifieddate": f"2026-11-{1 + i % 20:02d}T00:00:{i % 60:02d}.000Z"}}
        for i in range(250)
    ]
    (tmp_path / "companies.json").write_text(json.dumps(companies), encoding="utf-8")
    (tmp_path / "owners.json").write_text("[]", encoding="utf-8")
    return tmp_path


def extract_accounts(emulator, tmp_path, token="t0ken", cursor=None, page_size=100):
    connection = ConnectionDetails("hubspot_test", host=emulator.base_url, password=token)
    extractor = HubSpotExtractor("crm", HubSpotOptions(page_size=page_size, max_attempts=6), connection)
    spool = Spool(tmp_path / "spool.csv", "crm", 1, STREAMS["crm_accounts"])
    extractor.extract(STREAMS["crm_accounts"], HubSpotStream(object="companies", properties=ACCOUNT_COLUMNS), cursor, spool)
    spool.close()
    return spool, [row["account_id"] for row in spool_rows(spool)]


def spool_rows(spool) -> list[dict]:
    """The records a spool file holds, by column name."""
    with open(spool.path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_hubspot_pages_through_every_record_exactly_once(portal, tmp_path):
    with hubspot.start(portal, "t0ken") as emulator:
        spool, ids = extract_accounts(emulator, tmp_path)
    assert sorted(ids) == sorted(str(1000 + i) for i in range(250))
    searches = [r for r in emulator.requests if "/search" in r[1]]
    assert len(searches) == 3  # 100 + 100 + 50


def test_hubspot_restarts_from_the_last_modification_time_at_the_search_cap(portal, tmp_path, monkeypatch):
    """A cap of 30 here stands for HubSpot's 10,000: the emulator refuses a page past it, like HubSpot."""
    monkeypatch.setattr(hubspot, "SEARCH_RESULT_CAP", 30)
    monkeypatch.setattr(hubspot_client, "SEARCH_RESULT_CAP", 30)
    with hubspot.start(portal, "t0ken") as emulator:
        _, ids = extract_accounts(emulator, tmp_path, page_size=10)
    assert set(ids) == {str(1000 + i) for i in range(250)}, "every record, across restarts"
    statuses = [status for _, path, status in emulator.requests if "/search" in path]
    assert set(statuses) == {200} and len(statuses) > 25


def test_hubspot_paging_and_the_cap_restart_are_written_once():
    """The extractor, the task push and the status sync all page HubSpot through sources/hubspot_client.py."""
    package = Path(hubspot_client.__file__).parent.parent
    elsewhere = [str(path.relative_to(package)) for path in package.rglob("*.py") if path.name != "hubspot_client.py"
                 and re.search(r"SEARCH_RESULT_CAP|paging\W+next|def _?epoch_ms", path.read_text(encoding="utf-8"))]
    assert elsewhere == []


def test_hubspot_cursor_reads_only_what_changed(portal, tmp_path):
    with hubspot.start(portal, "t0ken") as emulator:
        _, ids = extract_accounts(emulator, tmp_path, cursor="2026-11-20T00:00:00.000Z")
    assert len(ids) == 12 and all(int(i) % 20 == 19 for i in map(lambda x: int(x) - 1000, ids))


def test_hubspot_waits_as_429_retry_after_says_and_retries_5xx(portal, tmp_path):
    with hubspot.start(portal, "t0ken", rate_limit=(2, 1.0), fail_first=2) as emulator:
        started = time.monotonic()
        _, ids = extract_accounts(emulator, tmp_path)
        elapsed = time.monotonic() - started
    statuses = [status for _, _, status in emulator.requests]
    assert statuses.count(503) == 2
    assert 429 in statuses
    assert len(ids) == 250, "nothing lost to the failures"
    assert elapsed >= 1.0, "a 429 with Retry-After: 1 was not honoured"


def test_bad_credentials_fail_at_once_naming_the_connection(portal, tmp_path):
    with hubspot.start(portal, "right") as emulator:
        with pytest.raises(ApiError, match="check the token in the Airflow connection 'hubspot_test'"):
            extract_accounts(emulator, tmp_path, token="wrong")
    assert [status for _, _, status in emulator.requests] == [401]


def test_typeform_pages_with_before_tokens_and_retries(tmp_path):
    items = [
        {"landing_id": f"t{i:05d}", "token": f"t{i:05d}", "response_id": f"t{i:05d}",
         "landed_at": f"2026-11-{1 + i // 200:02d}T00:00:00Z", "submitted_at": f"2026-11-{1 + i // 200:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
         "hidden": {"account_id": "a1", "email": "u@x.y"},
         "answers": [{"field": {"id": "f", "ref": "nps", "type": "opinion_scale"}, "type": "number", "number": i % 11}]}
        for i in range(2500)
    ]
    items.sort(key=lambda item: item["submitted_at"], reverse=True)
    (tmp_path / "forms.json").write_text(json.dumps([{"id": "f1", "title": "NPS", "fields": []}]), encoding="utf-8")
    (tmp_path / "responses_f1.json").write_text(json.dumps(items), encoding="utf-8")
    with typeform.start(tmp_path, "t0ken", fail_every=3) as emulator:
        extractor = TypeformExtractor("surveys", TypeformOptions(page_size=1000),
                                      ConnectionDetails("typeform_test", host=emulator.base_url, password="t0ken"))
        spool = Spool(tmp_path / "spool.csv", "surveys", 1, STREAMS["survey_responses"])
        extractor.extract(STREAMS["survey_responses"], TypeformStream(forms=[{"form_id": "f1", "survey": "nps"}]), None, spool)
        spool.close()
    ids = [row["response_id"] for row in spool_rows(spool)]
    assert sorted(ids) == sorted(item["token"] for item in items)
    assert any(status >= 500 for _, _, status in emulator.requests)


def test_csm_assessments_in_the_crm_map_to_cmi_answers(tmp_path):
    records = [{"id": str(i), "archived": False, "createdAt": "2026-11-01T00:00:00.000Z", "updatedAt": "2026-11-01T00:00:00.000Z",
                "properties": {"assessment_id": "as-1", "account_id": "a1", "hubspot_owner_id": "7", "question_id": q,
                               "answer": str(a), "assessed_at": "2026-11-01T09:00:00Z",
                               "hs_lastmodifieddate": "2026-11-01T09:00:00.000Z"}}
               for i, (q, a) in enumerate((("strategy_what", 4), ("people_what", 2)))]
    (tmp_path / "p_cmi_assessment.json").write_text(json.dumps(records), encoding="utf-8")
    (tmp_path / "owners.json").write_text("[]", encoding="utf-8")
    mapping = {"response_id": "assessment_id", "account_id": "account_id", "respondent": "hubspot_owner_id",
               "survey": "=cmi", "question_id": "question_id", "answer": "answer", "submitted_at": "assessed_at"}
    with hubspot.start(tmp_path, "t0ken") as emulator:
        extractor = HubSpotExtractor("crm", HubSpotOptions(), ConnectionDetails("hubspot_test", host=emulator.base_url, password="t0ken"))
        spool = Spool(tmp_path / "spool.csv", "crm", 1, STREAMS["survey_responses"])
        extractor.extract(STREAMS["survey_responses"], HubSpotStream(object="p_cmi_assessment", properties=mapping), None, spool)
        spool.close()
    rows = spool_rows(spool)
    assert [(r["response_id"], r["survey"], r["question_id"], r["answer"]) for r in rows] == [("as-1", "cmi", "strategy_what", "4"), ("as-1", "cmi", "people_what", "2")]
