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


def test_an_unknown_encoding_fails_validation_naming_the_key(configure, tmp_path):
    with pytest.raises(Exception, match=r"sources\.under_test\.options\.encoding.*unknown encoding 'utf-9'"):
        configure(f"""
            kind: csv
            options: {{folder: {tmp_path}, encoding: utf-9}}
            streams:
              crm_accounts: {{glob: "accounts_*.csv"}}
            """)
