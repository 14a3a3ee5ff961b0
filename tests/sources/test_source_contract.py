"""One contract, run for every kind of source: what any extractor + the loader must guarantee.

For each kind a small harness puts two good records and one bad record at the
source, then the same steps run: the good rows land typed in staging, the bad
one is quarantined with its reason, a rerun adds nothing, and a new record at
the source is the only row inserted by the next run.
"""
from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psycopg
import pytest

from customer_health.config.sources import load_sources
from customer_health.sources.ingest import ingest_stream
from customer_health.sources.registry import KINDS
from demo.emulators import hubspot, typeform
from demo.localenv import http_connection_uri
from tests.helpers import accounts, load_rows


@dataclass
class Harness:
    kind: str
    stream: str
    source_yaml: str          # the entry under sources:, for a source named "under_test"
    add_record: Callable[[], None]
    key: str                  # staging key column
    bad_reason: str


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")


def company(i, name, modified, employees="10"):
    return {"id": str(i), "properties": {"name": name, "region": "EMEA", "numberofemployees": employees, "createdate": "2026-01-01T00:00:00.000Z",
                                         "hs_lastmodifieddate": modified}, "createdAt": modified, "updatedAt": modified,
            "archived": False}


def response(token, account, score, submitted):
    return {"landing_id": token, "token": token, "response_id": token, "landed_at": submitted, "submitted_at": submitted,
            "hidden": {"account_id": account, "email": "u@example.com"},
            "answers": [{"field": {"id": "f1", "ref": "nps", "type": "opinion_scale"}, "type": "number", "number": score}]}


class ServedPortal:
    """An emulator serving ``data``, named by the connection ``under_test``; it reads its files at start,
    so a change at the source is a rewrite and a restart."""

    def __init__(self, module, data: Path, monkeypatch):
        self.module, self.data, self.monkeypatch = module, data, monkeypatch
        self._start()

    def _start(self) -> None:
        self.emulator = self.module.start(self.data, "t0ken")
        self.monkeypatch.setenv("AIRFLOW_CONN_UNDER_TEST", http_connection_uri(self.emulator.base_url, "t0ken"))

    def rewrite(self, name: str, data) -> None:
        write_json(self.data / name, data)
        self.emulator.stop()
        self._start()

    def stop(self) -> None:
        self.emulator.stop()


@pytest.fixture
def harness(request, tmp_path, monkeypatch, product_db_url):
    kind = request.param
    if kind == "csv":
        folder = tmp_path / "exports"
        folder.mkdir()
        header = "response_id,account_id,respondent,survey,question_id,answer,submitted_at\n"
        (folder / "csat_20261101.csv").write_text(
            header + "c1,a1,x@y.z,csat,csat,4,2026-11-01T10:00:00Z\nc2,a1,x@y.z,csat,csat,5,2026-11-01T11:00:00Z\n"
            "c3,a1,x@y.z,csat,csat,7,2026-11-01T12:00:00Z\n", encoding="utf-8")
        yield Harness(kind, "survey_responses", f"""
            kind: csv
            options: {{folder: {folder}}}
            streams:
              survey_responses: {{glob: "csat_*.csv"}}
            """, lambda: (folder / "csat_20261102.csv").write_text(
                header + "c4,a1,x@y.z,csat,csat,3,2026-11-02T10:00:00Z\n", encoding="utf-8"),
            "response_id", "CSAT answer must be 1-5, got 7")
    elif kind == "hubspot":
        data = tmp_path / "hubspot"
        data.mkdir()
        rows = [company(1, "Acme", "2026-11-01T10:00:00.000Z"), company(2, "Beta", "2026-11-01T11:00:00.000Z"),
                company(3, "Bad", "2026-11-01T12:00:00.000Z", employees="lots")]
        write_json(data / "companies.json", rows)
        write_json(data / "owners.json", [])
        portal = ServedPortal(hubspot, data, monkeypatch)
        yield Harness(kind, "crm_accounts", """
            kind: hubspot
            conn_id: under_test
            streams:
              crm_accounts:
                object: companies
                properties: {account_id: id, name: name, parent_account_id: hs_parent_company_id,
                             csm_owner_id: hubspot_owner_id, employees: numberofemployees, industry: industry,
                             region: region, lifecycle_stage: lifecyclestage, created_at: createdate}
            """, lambda: portal.rewrite("companies.json", [*rows, company(4, "Delta", "2026-11-02T09:00:00.000Z")]),
            "account_id", "unparseable employees: 'lots'")
        portal.stop()
    elif kind == "typeform":
        data = tmp_path / "typeform"
        data.mkdir()
        write_json(data / "forms.json", [{"id": "nps1", "title": "NPS", "fields": [{"id": "f1", "ref": "nps", "type": "opinion_scale"}]}])
        items = [response("t3", "a1", 11, "2026-11-01T12:00:00Z"), response("t2", "a1", 9, "2026-11-01T11:00:00Z"),
                 response("t1", "a1", 3, "2026-11-01T10:00:00Z")]
        write_json(data / "responses_nps1.json", items)
        portal = ServedPortal(typeform, data, monkeypatch)
        yield Harness(kind, "survey_responses", """
            kind: typeform
            conn_id: under_test
            streams:
              survey_responses:
                forms: [{form_id: nps1, survey: nps}]
            """, lambda: portal.rewrite("responses_nps1.json", [response("t4", "a1", 10, "2026-11-02T09:00:00Z"), *items]),
            "response_id", "NPS answer must be 0-10, got 11")
        portal.stop()
    elif kind == "postgres":
        from tests.integration.test_ingest_dags import PRODUCT_SCHEMA, add_events

        with psycopg.connect(product_db_url, autocommit=True) as conn:
            conn.execute(PRODUCT_SCHEMA)
        add_events(product_db_url, 1, 3, "2026-11-01")
        with psycopg.connect(product_db_url, autocommit=True) as conn:
            conn.execute("UPDATE app.events SET organization_id = 3 WHERE id = 3")  # an account the CRM lacks
        monkeypatch.setenv("AIRFLOW_CONN_UNDER_TEST", product_db_url)
        yield Harness(kind, "usage_events", """
            kind: postgres
            conn_id: under_test
            keep_raw: false
            streams:
              usage_events: {query: extract/product_db/usage_events.sql, incremental: true}
            """, lambda: add_events(product_db_url, 4, 1, "2026-11-02"),
            "event_id", "unknown account_id: 'ghost' (not in the CRM accounts)")
    else:
        raise AssertionError(kind)


@pytest.fixture
def sources_for(tmp_path, monkeypatch):
    def build(harness: Harness):
        include = tmp_path / "include"
        (include / "config").mkdir(parents=True)
        os.symlink(Path(__file__).resolve().parents[2] / "include" / "sql", include / "sql")
        entry = textwrap.indent(textwrap.dedent(harness.source_yaml).strip(), "    ")
        (include / "config" / "sources.yml").write_text(f"sources:\n  under_test:\n{entry}\n", encoding="utf-8")
        monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))
        return load_sources()
    return build


def test_every_kind_is_covered():
    assert set(KINDS) == {"csv", "hubspot", "typeform", "postgres"}, "add a harness for the new kind"


@pytest.mark.parametrize("harness", sorted(KINDS), indirect=True)
def test_source_contract(harness, sources_for, warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    sources = sources_for(harness)
    table = f"staging.{harness.stream}"

    def staged():
        return warehouse.execute(f"SELECT {harness.key} FROM {table} WHERE _source = 'under_test' ORDER BY 1").fetchall()  # noqa: S608

    first = ingest_stream("under_test", harness.stream, sources=sources, warehouse_url=warehouse_url)
    assert (first.rows_inserted, first.rows_quarantined) == (2, 1)
    assert warehouse.execute("SELECT reason FROM meta.quarantine WHERE source = 'under_test'").fetchall() == [(harness.bad_reason,)]
    after_first = staged()
    assert len(after_first) == 2

    again = ingest_stream("under_test", harness.stream, sources=sources, warehouse_url=warehouse_url)
    assert (again.rows_inserted, again.rows_updated) == (0, 0)
    assert staged() == after_first
    assert warehouse.execute("SELECT count(*) FROM meta.quarantine WHERE source = 'under_test'").fetchone() == (1,)

    harness.add_record()
    third = ingest_stream("under_test", harness.stream, sources=sources, warehouse_url=warehouse_url)
    assert (third.rows_inserted, third.rows_updated) == (1, 0)
    assert third.rows_received < 4, "an incremental source must not re-read everything"
    assert len(staged()) == 3
    assert third.cursor_to is not None and third.cursor_to >= (first.cursor_to or "")
