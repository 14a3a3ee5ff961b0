"""Issue 15: no silent loss on the way in, through the real extractors and loader.

Each test puts hostile input at a real source (export files on disk, the vendor
emulators over loopback HTTP, a product database) and checks that every record
received is either in staging or in quarantine with a reason and its location
in the source, that the rest of the batch loads, and that a rerun changes nothing.
"""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from customer_health.config.sources import load_sources
from customer_health.sources.ingest import ingest_stream
from tests.helpers import accounts, load_rows

ACCOUNT_HEADER = "account_id,name,parent_account_id,csm_owner_id,employees,industry,region,lifecycle_stage,created_at\n"
CONTRACT_HEADER = "contract_id,account_id,start_date,end_date,arr,status\n"


def account_line(account_id: str, name: str, employees: str = "10", created: str = "2026-01-01") -> str:
    return f"{account_id},{name},,,{employees},Software,EMEA,customer,{created}\n"


@pytest.fixture
def configure(tmp_path, monkeypatch):
    """Write a sources.yml with one source ``under_test`` and return the validated manifest."""
    def build(source_yaml: str):
        include = tmp_path / "include"
        (include / "config").mkdir(parents=True, exist_ok=True)
        if not (include / "sql").exists():
            os.symlink(Path(__file__).resolve().parents[2] / "include" / "sql", include / "sql")
        entry = textwrap.indent(textwrap.dedent(source_yaml).strip(), "    ")
        (include / "config" / "sources.yml").write_text(f"sources:\n  under_test:\n{entry}\n", encoding="utf-8")
        monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))
        return load_sources()
    return build


@pytest.fixture
def exports(tmp_path, configure):
    """A csv source over a folder of exports, for crm_accounts and crm_contracts."""
    folder = tmp_path / "exports"
    folder.mkdir()
    sources = configure(f"""
        kind: csv
        options: {{folder: {folder}, settle_seconds: 0}}
        streams:
          crm_accounts: {{glob: "accounts_*.csv"}}
          crm_contracts: {{glob: "contracts_*.csv"}}
        """)
    return folder, sources


def quarantined(conn, stream: str) -> list[tuple]:
    return conn.execute("SELECT record_key, origin, reason_kind, reason FROM meta.quarantine WHERE stream = %s "
                        "ORDER BY quarantine_id", [stream]).fetchall()


def staged_accounts(conn) -> list[tuple]:
    return conn.execute("SELECT account_id, name FROM staging.crm_accounts ORDER BY 1").fetchall()


# --- class 3: one bad value never stops a feed -------------------------------------------------------------------

def test_a_nul_byte_a_huge_id_and_a_huge_field_quarantine_their_rows_and_the_rest_loads(exports, warehouse, warehouse_url):
    folder, sources = exports
    (folder / "accounts_1.csv").write_text(
        ACCOUNT_HEADER + account_line("a1", "Acme") + account_line("a2", "Nul\x00Corp")
        + account_line("x" * 8000, "Long id") + account_line("a4", "B" * (1 << 20)) + account_line("a5", "Fine"),
        encoding="utf-8")
    result = ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert (result.rows_received, result.rows_inserted, result.rows_quarantined) == (5, 2, 3)
    assert staged_accounts(warehouse) == [("a1", "Acme"), ("a5", "Fine")]
    rows = quarantined(warehouse, "crm_accounts")
    assert [(key[:3], origin, kind) for key, origin, kind, _ in rows] == [
        ("a2", "accounts_1.csv:3", "NUL byte in name"),
        ("xxx", "accounts_1.csv:4", "oversized key"),
        ("a4", "accounts_1.csv:5", "oversized name"),
    ]
    assert rows[1][3] == "oversized key: 8000 bytes, the limit is 2000"
    payload, releasable = warehouse.execute(
        "SELECT payload, releasable FROM meta.quarantine WHERE record_key = 'a2'").fetchone()
    assert payload["name"] == "Nul\\x00Corp" and releasable is False, "the stored payload says where the NUL was"

    (folder / "accounts_2.csv").write_text(ACCOUNT_HEADER + account_line("a6", "Next day"), encoding="utf-8")
    again = ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert (again.rows_received, again.rows_inserted) == (1, 1), "the feed goes on after a bad file"
    assert len(quarantined(warehouse, "crm_accounts")) == 3


def test_a_key_too_long_for_its_index_from_a_database_is_quarantined_by_the_careful_path(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    result = load_rows(warehouse_url, "usage_events", [
        {"event_id": "e" * 8000, "account_id": "a1", "event_name": "login", "occurred_at": "2026-11-01T10:00:00Z"},
        {"event_id": "e2", "account_id": "a1", "event_name": "login", "occurred_at": "2026-11-01T10:00:00Z"},
    ], keep_raw=False)
    assert (result.rows_inserted, result.rows_quarantined) == (1, 1)
    assert warehouse.execute("SELECT reason_kind FROM meta.quarantine").fetchall() == [("oversized key",)]


# --- class 4: CSV rows are never reshaped silently ---------------------------------------------------------------

def test_ragged_rows_trailing_junk_and_bad_bytes_are_quarantined_with_file_and_line(exports, warehouse, warehouse_url):
    folder, sources = exports
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    (folder / "contracts_1.csv").write_bytes((
        CONTRACT_HEADER
        + "k1,a1,2026-01-15,2027-01-14,1000,active\n"
        + "k2,a1,2026-01-15junk,2027-01-14,1000,active\n"         # trailing junk in a date
        + "k3,a1,2026-01-15,2027-01-14,1,000,active\n"            # an unquoted comma: one field too many
        + "k4,a1,2026-01-15,2027-01-14\n"                         # cut off: too few fields
        + "k5,a1,2026-01-15T09:00:00Z,2027-01-14,500,renewed\n"   # a timestamp gives its date
        ).encode() + "k6,a1,2026-01-15,2027-01-14,7,caf\xe9\n".encode("latin-1"))
    result = ingest_stream("under_test", "crm_contracts", sources=sources, warehouse_url=warehouse_url)
    assert (result.rows_received, result.rows_inserted, result.rows_quarantined) == (6, 2, 4)
    assert warehouse.execute("SELECT contract_id, start_date::text FROM staging.crm_contracts ORDER BY 1").fetchall() == [
        ("k1", "2026-01-15"), ("k5", "2026-01-15")]
    rows = {key: (origin, reason) for key, origin, _, reason in quarantined(warehouse, "crm_contracts")}
    assert rows["k2"] == ("contracts_1.csv:3", "unparseable start_date: '2026-01-15junk'")
    assert rows["k3"] == ("contracts_1.csv:4", "ragged row: 7 fields, the header has 6 (an unquoted ',' or a cut-off line?)")
    assert rows["k4"][1].startswith("ragged row: 4 fields, the header has 6")
    assert rows["k6"] == ("contracts_1.csv:7", "not valid utf-8-sig: bytes on contracts_1.csv line 7 do not decode "
                                               "(set sources.under_test.options.encoding to the file's encoding)")
    extra = warehouse.execute("SELECT _extra FROM raw.crm_contracts WHERE contract_id = 'k3'").fetchone()[0]
    assert '"_fields_beyond_the_header": ["active"]' in extra, "nothing of a ragged row is dropped"


def test_a_file_whose_encoding_contradicts_the_option_fails_naming_file_and_option(tmp_path, configure, warehouse,
                                                                                 warehouse_url):
    from customer_health.sources.csv_export import CsvHeaderError

    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "accounts_1.csv").write_bytes((ACCOUNT_HEADER + account_line("a1", "Café")).encode("utf-8-sig"))
    sources = configure(f"""
        kind: csv
        options: {{folder: {folder}, settle_seconds: 0, encoding: cp1252}}
        streams:
          crm_accounts: {{glob: "accounts_*.csv"}}
        """)
    with pytest.raises(CsvHeaderError, match=r"accounts_1\.csv: starts with a UTF-8 byte order mark, but "
                                             r"sources\.under_test\.options\.encoding is 'cp1252'.*set it to utf-8-sig"):
        ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert staged_accounts(warehouse) == []


def test_an_unknown_encoding_fails_validation_naming_the_key(configure, tmp_path):
    with pytest.raises(Exception, match=r"sources\.under_test\.options\.encoding.*unknown encoding 'utf-9'"):
        configure(f"""
            kind: csv
            options: {{folder: {tmp_path}, encoding: utf-9}}
            streams:
              crm_accounts: {{glob: "accounts_*.csv"}}
            """)


# --- class 1: the cursor never skips data for good --------------------------------------------------------------

@pytest.fixture
def product(product_db_url, monkeypatch, warehouse, warehouse_url):
    """The test session's product database with the small app schema, read as the source ``under_test``."""
    import psycopg

    from tests.integration.test_ingest_dags import PRODUCT_SCHEMA

    with psycopg.connect(product_db_url, autocommit=True) as conn:
        conn.execute(PRODUCT_SCHEMA)
    monkeypatch.setenv("AIRFLOW_CONN_UNDER_TEST", product_db_url)
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))

    def add(event_id: int, occurred_at: str) -> None:
        with psycopg.connect(product_db_url, autocommit=True) as conn:
            conn.execute("INSERT INTO app.events (id, organization_id, member_id, name, created_at, duration_ms) "
                         "VALUES (%s, 1, 10, 'login', %s, 1000)", [event_id, occurred_at])

    def alter(statement: str) -> None:
        with psycopg.connect(product_db_url, autocommit=True) as conn:
            conn.execute(statement)

    add.alter = alter
    return add


def usage_source(query: str = "usage_events.sql", **checks) -> str:
    extra = "".join(f", {k}: {v}" for k, v in checks.items())
    return f"""
        kind: postgres
        conn_id: under_test
        keep_raw: false
        streams:
          usage_events: {{query: extract/product_db/{query}, incremental: true{extra}}}
        """


def events(conn) -> list[str]:
    return [e for (e,) in conn.execute("SELECT event_id FROM staging.usage_events ORDER BY event_id::int")]


def test_a_late_event_is_skipped_without_lookback_and_loaded_with_it(product, configure, warehouse, warehouse_url):
    product(1, "2026-11-01 08:00+00")
    product(2, "2026-11-01 09:00+00")
    ingest_stream("under_test", "usage_events", sources=configure(usage_source()), warehouse_url=warehouse_url)
    product(3, "2026-11-01 08:30+00")  # arrives after the load, stamped before its cursor
    skipped = ingest_stream("under_test", "usage_events", sources=configure(usage_source()), warehouse_url=warehouse_url)
    assert skipped.rows_received == 0 and events(warehouse) == ["1", "2"]

    with_lookback = configure(usage_source(lookback='"45 minutes"'))
    late = ingest_stream("under_test", "usage_events", sources=with_lookback, warehouse_url=warehouse_url)
    assert (late.rows_received, late.rows_inserted, late.rows_unchanged) == (2, 1, 1), "the overlap is re-read, unchanged"
    assert events(warehouse) == ["1", "2", "3"]
    again = ingest_stream("under_test", "usage_events", sources=with_lookback, warehouse_url=warehouse_url)
    assert (again.rows_inserted, again.cursor_to) == (0, late.cursor_to)


def test_an_event_stamped_in_the_future_is_quarantined_and_never_moves_the_cursor(product, configure, warehouse,
                                                                                   warehouse_url):
    sources = configure(usage_source(future_tolerance='"1 day"'))
    product(1, "2026-11-01 08:00+00")
    product(2, "2031-01-01 00:00+00")
    first = ingest_stream("under_test", "usage_events", sources=sources, warehouse_url=warehouse_url)
    assert (first.rows_inserted, first.rows_quarantined) == (1, 1)
    assert first.cursor_to.startswith("2026-11-01T08:00")
    assert warehouse.execute("SELECT record_key, reason_kind FROM meta.quarantine").fetchall() == [("2", "in the future")]
    product(3, "2026-11-02 08:00+00")
    second = ingest_stream("under_test", "usage_events", sources=sources, warehouse_url=warehouse_url)
    assert second.rows_inserted == 1 and events(warehouse) == ["1", "3"]
    assert warehouse.execute("SELECT count(*) FROM meta.quarantine").fetchone() == (1,), "re-read, not stored twice"


def test_an_arrival_time_cursor_reads_a_late_event_without_lookback(product, configure, warehouse, warehouse_url):
    product.alter("ALTER TABLE app.events ADD COLUMN received_at timestamptz NOT NULL DEFAULT clock_timestamp()")
    sources = configure(usage_source("usage_events_by_arrival.sql"))
    product(1, "2026-11-01 08:00+00")
    product(2, "2026-11-01 09:00+00")
    ingest_stream("under_test", "usage_events", sources=sources, warehouse_url=warehouse_url)
    product(3, "2026-11-01 07:00+00")  # happened first, arrived last
    late = ingest_stream("under_test", "usage_events", sources=sources, warehouse_url=warehouse_url)
    assert (late.rows_received, late.rows_inserted) == (1, 1)
    assert events(warehouse) == ["1", "2", "3"]


def test_lookback_on_a_file_source_fails_validation_naming_the_key(configure, tmp_path):
    with pytest.raises(Exception, match=r"sources\.under_test\.streams\.crm_accounts\.lookback: kind 'csv' has no time cursor"):
        configure(f"""
            kind: csv
            options: {{folder: {tmp_path}}}
            streams:
              crm_accounts: {{glob: "a_*.csv", lookback: 2 days}}
            """)


# --- class 2: schema drift never nulls out good values ---------------------------------------------------------

ACCOUNT_PROPERTIES = """{account_id: id, name: name, parent_account_id: hs_parent_company_id,
                             csm_owner_id: hubspot_owner_id, employees: numberofemployees, industry: industry,
                             region: region, lifecycle_stage: lifecyclestage, created_at: createdate}"""


def company(i: int, props: dict, modified: str) -> dict:
    return {"id": str(i), "archived": False, "createdAt": modified, "updatedAt": modified,
            "properties": {"name": f"Company {i}", "createdate": "2026-01-01T00:00:00.000Z", **props,
                           "hs_lastmodifieddate": modified}}


def regions(conn) -> list[tuple]:
    return conn.execute("SELECT account_id, region FROM staging.crm_accounts ORDER BY 1").fetchall()


@pytest.fixture
def portal(tmp_path, monkeypatch):
    """The HubSpot emulator over a data folder; ``serve(companies)`` (re)starts it with those companies."""
    import json

    from demo.emulators import hubspot
    from demo.localenv import http_connection_uri

    data = tmp_path / "hubspot"
    data.mkdir()
    (data / "owners.json").write_text("[]", encoding="utf-8")
    running = []

    def serve(companies: list[dict]) -> None:
        while running:
            running.pop().stop()
        (data / "companies.json").write_text(json.dumps(companies), encoding="utf-8")
        emulator = hubspot.start(data, "t0ken")
        running.append(emulator)
        monkeypatch.setenv("AIRFLOW_CONN_UNDER_TEST", http_connection_uri(emulator.base_url, "t0ken"))

    yield serve
    while running:
        running.pop().stop()


def crm_source(policy: str | None = None) -> str:
    extra = f"\n            on_missing_property: {policy}" if policy else ""
    return f"""
        kind: hubspot
        conn_id: under_test
        streams:
          crm_accounts:
            object: companies
            properties: {ACCOUNT_PROPERTIES}{extra}
        """


def test_a_renamed_crm_property_fails_the_stream_naming_it_and_staging_keeps_its_values(portal, configure, warehouse,
                                                                                      warehouse_url):
    """``region`` is the portal's own property (HubSpot's standard ones cannot be renamed); renamed, HubSpot stops sending it."""
    from customer_health.sources.hubspot import SchemaDriftError

    portal([company(1, {"region": "EMEA"}, "2026-11-01T10:00:00.000Z"), company(2, {"region": "APAC"}, "2026-11-01T11:00:00.000Z")])
    ingest_stream("under_test", "crm_accounts", sources=configure(crm_source()), warehouse_url=warehouse_url)
    renamed = [company(1, {"sales_region": "EMEA"}, "2026-11-02T10:00:00.000Z"),
               company(2, {"sales_region": "APAC"}, "2026-11-02T11:00:00.000Z")]
    portal(renamed)
    with pytest.raises(SchemaDriftError, match=r"without the configured property 'region' \(column region\).*"
                                               r"sources\.under_test\.streams\.crm_accounts\.properties"):
        ingest_stream("under_test", "crm_accounts", sources=configure(crm_source()), warehouse_url=warehouse_url)
    assert regions(warehouse) == [("1", "EMEA"), ("2", "APAC")]

    result = ingest_stream("under_test", "crm_accounts", sources=configure(crm_source("quarantine")),
                           warehouse_url=warehouse_url)
    assert (result.rows_updated, result.rows_quarantined) == (0, 2)
    assert regions(warehouse) == [("1", "EMEA"), ("2", "APAC")], "never nulled out"
    assert {(k, o, kind) for k, o, kind, _ in quarantined(warehouse, "crm_accounts")} == {
        ("1", "HubSpot companies 1", "missing property"), ("2", "HubSpot companies 2", "missing property")}


def test_columns_a_csv_adds_are_kept_in_raw(exports, warehouse, warehouse_url):
    folder, sources = exports
    (folder / "accounts_1.csv").write_text(ACCOUNT_HEADER.rstrip("\n") + ",tier\n" + account_line("a1", "Acme").rstrip("\n")
                                           + ",gold\n", encoding="utf-8")
    ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert staged_accounts(warehouse) == [("a1", "Acme")]
    assert warehouse.execute("SELECT _extra, _origin FROM raw.crm_accounts").fetchall() == [('{"tier": "gold"}', "accounts_1.csv:2")]


# --- class 5: several files in one run --------------------------------------------------------------------------

def test_two_exports_in_one_run_the_later_file_wins_for_a_mutable_stream(exports, warehouse, warehouse_url):
    folder, sources = exports
    (folder / "accounts_20261101.csv").write_text(ACCOUNT_HEADER + account_line("a1", "Old name") + account_line("a2", "Beta"),
                                                  encoding="utf-8")
    (folder / "accounts_20261102.csv").write_text(ACCOUNT_HEADER + account_line("a1", "New name"), encoding="utf-8")
    result = ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert staged_accounts(warehouse) == [("a1", "New name"), ("a2", "Beta")]
    assert (result.rows_received, result.rows_inserted, result.rows_quarantined) == (3, 2, 0)


def test_two_exports_in_one_run_that_disagree_on_an_immutable_row_are_quarantined(tmp_path, configure, warehouse,
                                                                                  warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    folder = tmp_path / "surveys"
    folder.mkdir()
    header = "response_id,account_id,respondent,survey,question_id,answer,submitted_at\n"
    (folder / "nps_1.csv").write_text(header + "r1,a1,x@y.z,nps,nps,9,2026-11-01T10:00:00Z\n", encoding="utf-8")
    (folder / "nps_2.csv").write_text(header + "r1,a1,x@y.z,nps,nps,3,2026-11-01T10:00:00Z\n", encoding="utf-8")
    sources = configure(f"""
        kind: csv
        options: {{folder: {folder}, settle_seconds: 0}}
        streams:
          survey_responses: {{glob: "nps_*.csv"}}
        """)
    result = ingest_stream("under_test", "survey_responses", sources=sources, warehouse_url=warehouse_url)
    assert (result.rows_inserted, result.rows_quarantined) == (0, 2)
    assert {(o, kind) for _, o, kind, _ in quarantined(warehouse, "survey_responses")} == {
        ("nps_1.csv:2", "duplicate key in this batch with different content"),
        ("nps_2.csv:2", "duplicate key in this batch with different content")}


# --- class 6: files are known by name and content ---------------------------------------------------------------

def test_files_are_read_by_content_not_by_name_order(exports, warehouse, warehouse_url):
    folder, sources = exports
    (folder / "accounts_20261102.csv").write_text(ACCOUNT_HEADER + account_line("a2", "Beta"), encoding="utf-8")
    ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)

    (folder / "accounts_20261101.csv").write_text(ACCOUNT_HEADER + account_line("a1", "Acme"), encoding="utf-8")
    earlier_name = ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert (earlier_name.rows_received, earlier_name.rows_inserted) == (1, 1), "a name sorting before the cursor is read"

    nothing = ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert nothing.rows_received == 0
    assert nothing.notes == [f"2 file(s) match 'accounts_*.csv' in {folder}, none is new (all loaded before)"]

    (folder / "accounts_20261102.csv").write_text(ACCOUNT_HEADER + account_line("a2", "Beta renamed"), encoding="utf-8")
    reexport = ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert (reexport.rows_received, reexport.rows_updated) == (1, 1)
    assert reexport.notes == ["accounts_20261102.csv: re-exported with new content; read again (keys make it idempotent)"]
    assert staged_accounts(warehouse) == [("a1", "Acme"), ("a2", "Beta renamed")]
    assert warehouse.execute("SELECT count(*) FROM meta.source_files").fetchone() == (3,)


def test_a_file_still_being_written_waits_for_a_later_run(tmp_path, configure, warehouse, warehouse_url):
    import threading

    folder = tmp_path / "exports"
    folder.mkdir()
    sources = configure(f"""
        kind: csv
        options: {{folder: {folder}, settle_seconds: 1}}
        streams:
          crm_accounts: {{glob: "accounts_*.csv"}}
        """)
    growing = folder / "accounts_1.csv"
    growing.write_text(ACCOUNT_HEADER + account_line("a1", "Acme"), encoding="utf-8")

    def exporter_still_writing():
        with open(growing, "a", encoding="utf-8") as f:
            f.write(account_line("a2", "Beta"))

    threading.Timer(0.2, exporter_still_writing).start()
    first = ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert first.rows_received == 0 and first.notes[0].startswith("accounts_1.csv: still being written")
    second = ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert second.rows_inserted == 2


def test_with_a_ready_marker_a_file_is_read_only_once_its_marker_exists(tmp_path, configure, warehouse, warehouse_url):
    folder = tmp_path / "exports"
    folder.mkdir()
    sources = configure(f"""
        kind: csv
        options: {{folder: {folder}, ready_suffix: .done}}
        streams:
          crm_accounts: {{glob: "accounts_*"}}
        """)
    (folder / "accounts_1.csv").write_text(ACCOUNT_HEADER + account_line("a1", "Acme"), encoding="utf-8")
    waiting = ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert waiting.rows_received == 0
    assert waiting.notes == ["accounts_1.csv: waiting for its marker accounts_1.csv.done (the export may still be running)"]
    (folder / "accounts_1.csv.done").write_text("", encoding="utf-8")
    ready = ingest_stream("under_test", "crm_accounts", sources=sources, warehouse_url=warehouse_url)
    assert ready.rows_inserted == 1


# --- class 10: API bodies that are not JSON ---------------------------------------------------------------------

def extract_companies(emulator, tmp_path, token: str, max_attempts: int):
    from customer_health.contracts.streams import STREAMS
    from customer_health.sources.base import ConnectionDetails, Spool
    from customer_health.sources.hubspot import HubSpotExtractor, HubSpotOptions, HubSpotStream

    connection = ConnectionDetails("hubspot_test", host=emulator.base_url, password=token)
    extractor = HubSpotExtractor("crm", HubSpotOptions(max_attempts=max_attempts), connection)
    spool = Spool(tmp_path / "spool.csv", "crm", 1, STREAMS["crm_accounts"])
    options = HubSpotStream(object="companies", properties={"account_id": "id", "name": "name", "parent_account_id": "name",
                            "csm_owner_id": "name", "employees": "name", "industry": "name", "region": "name",
                            "lifecycle_stage": "name", "created_at": "createdate"})
    extractor.extract(STREAMS["crm_accounts"], options, None, spool)
    spool.close()
    return spool


@pytest.mark.parametrize("kind", ["html", "truncated"])
def test_a_body_that_is_not_json_is_retried(kind, tmp_path):
    import json

    from demo.emulators import hubspot

    (tmp_path / "companies.json").write_text(json.dumps([company(1, {}, "2026-11-01T10:00:00.000Z")]), encoding="utf-8")
    (tmp_path / "owners.json").write_text("[]", encoding="utf-8")
    with hubspot.start(tmp_path, "s3cret-t0ken") as emulator:
        emulator.garble_next(2, kind)
        spool = extract_companies(emulator, tmp_path, "s3cret-t0ken", max_attempts=4)
    assert spool.rows == 1
    assert [status for _, path, status in emulator.requests if "/search" in path] == [200, 200, 200]


@pytest.mark.parametrize("kind", ["html", "truncated"])
def test_a_body_that_stays_not_json_fails_naming_vendor_path_and_a_redacted_snippet(kind, tmp_path):
    import json

    from customer_health.sources.http import NotJSONError
    from demo.emulators import hubspot

    (tmp_path / "companies.json").write_text(json.dumps([company(1, {}, "2026-11-01T10:00:00.000Z")]), encoding="utf-8")
    (tmp_path / "owners.json").write_text("[]", encoding="utf-8")
    with hubspot.start(tmp_path, "s3cret-t0ken") as emulator:
        emulator.garble_next(10, kind)
        with pytest.raises(NotJSONError) as failure:
            extract_companies(emulator, tmp_path, "s3cret-t0ken", max_attempts=2)
    message = str(failure.value)
    assert message.startswith("HubSpot answered 200 for POST /crm/v3/objects/companies/search with a body that is not JSON")
    assert ("Maintenance" in message) if kind == "html" else ('"results"' in message)
    assert "s3cret-t0ken" not in message
    assert len([p for _, p, _ in emulator.requests if "/search" in p]) == 2, "retried before failing"
