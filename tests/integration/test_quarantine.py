"""Issue 15 class 11: a quarantine a person can work through, through the real CLI (subprocesses).

Entries group by the kind of what went wrong, not by key; an entry closes by
itself once a later load brings its key clean; `quarantine release` checks
chosen rows again now and loads those that pass; `quarantine acknowledge`
closes entries that need nothing more, and the same row arriving again is not
stored again.
"""
from __future__ import annotations

import os
import subprocess
import sys

from demo.localenv import REPO_ROOT
from tests.helpers import accounts, load_rows


def cli(warehouse_url, *args):
    return subprocess.run(
        [sys.executable, "-m", "customer_health", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "WAREHOUSE_URL": warehouse_url, "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
             "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}"},
    )


def nps(response_id, account, answer, question="nps"):
    return {"response_id": response_id, "account_id": account, "respondent": "u@example.com", "survey": "nps",
            "question_id": question, "answer": answer, "submitted_at": "2026-11-01T10:00:00Z"}


def open_entries(conn) -> list[tuple]:
    return conn.execute("SELECT record_key, reason_kind FROM meta.quarantine WHERE closed_at IS NULL "
                        "AND released_in_batch IS NULL ORDER BY quarantine_id").fetchall()


def test_reasons_group_by_kind_with_examples(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    load_rows(warehouse_url, "survey_responses", [
        nps("r1", "a1", "3"), nps("r1", "a1", "4"), nps("r2", "a1", "5"), nps("r2", "a1", "6"),
        nps("r3", "a1", "11"), nps("r4", "a1", "12")])
    shown = cli(warehouse_url, "quarantine")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "test.survey_responses: 4 x duplicate key in this batch with different content"
    assert lines[1].startswith("    #") and "r1/nps at batch " in lines[1]
    assert "test.survey_responses: 2 x NPS answer must be 0-10" in lines


def test_an_entry_closes_when_a_later_load_brings_its_key_clean(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    load_rows(warehouse_url, "crm_accounts", [{"account_id": "a2", "name": "Beta", "employees": "many"}])
    assert open_entries(warehouse) == [("a2", "unparseable employees")]
    fixed = load_rows(warehouse_url, "crm_accounts", [{"account_id": "a2", "name": "Beta", "employees": "40"}])
    assert open_entries(warehouse) == []
    assert warehouse.execute("SELECT closed_how, closed_in_batch FROM meta.quarantine").fetchall() == [
        ("fixed by a later load", fixed.batch_id)]
    assert "closed: 1 fixed by a later load" in cli(warehouse_url, "quarantine").stdout


def test_release_checks_rows_again_and_acknowledge_closes_them_for_good(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    load_rows(warehouse_url, "survey_responses", [nps("r1", "a1", "9"), nps("r2", "late", "7"), nps("r3", "test", "8")])
    ids = dict(warehouse.execute("SELECT record_key, quarantine_id FROM meta.quarantine").fetchall())
    # The CRM learns of account "late" in a load of its own: nothing else brings r2 back
    # before the stream's next load, unless someone releases it.
    warehouse.execute("INSERT INTO staging.crm_accounts (account_id, name, _source, _batch_id) "
                      "SELECT 'late', 'Late Ltd', 'test', max(batch_id) FROM meta.load_batches")

    nothing = cli(warehouse_url, "quarantine", "release")
    assert nothing.returncode == 2 and "name the entries: --id N" in nothing.stderr
    released = cli(warehouse_url, "quarantine", "release", "--id", str(ids["r2/nps"]))
    assert released.returncode == 0, released.stderr
    assert "test.survey_responses: released 1: inserted 1," in released.stdout
    staged = warehouse.execute("SELECT response_id FROM staging.survey_responses ORDER BY 1").fetchall()
    assert staged == [("r1",), ("r2",)]

    acknowledged = cli(warehouse_url, "quarantine", "acknowledge", "--stream", "survey_responses",
                       "--kind", "unknown account_id", "--note", "test workspace, not a customer")
    assert acknowledged.returncode == 0 and "acknowledged 1 entries" in acknowledged.stdout
    assert open_entries(warehouse) == []
    load_rows(warehouse_url, "survey_responses", [nps("r3", "test", "8")])
    assert open_entries(warehouse) == [], "an acknowledged row arriving again is not stored again"
    assert cli(warehouse_url, "quarantine").stdout.startswith("quarantine is empty")


def test_a_row_whose_values_were_altered_is_not_released(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", [{"account_id": "a1", "name": "Nul\x00Corp"}])
    (quarantine_id,) = warehouse.execute("SELECT quarantine_id FROM meta.quarantine").fetchone()
    refused = cli(warehouse_url, "quarantine", "release", "--id", str(quarantine_id))
    assert "1 entries not released: their values had to be altered" in refused.stdout
    assert open_entries(warehouse) == [("a1", "NUL byte in name")]


def test_release_by_stream_and_kind_and_the_summary_by_stream(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    load_rows(warehouse_url, "survey_responses", [nps("r1", "new1", "9"), nps("r2", "new2", "7"), nps("r3", "a1", "42")])
    load_rows(warehouse_url, "crm_accounts", [{"account_id": "new1", "name": "New"}], source="manual")
    shown = cli(warehouse_url, "quarantine", "--stream", "survey_responses")
    assert "test.survey_responses: 2 x unknown account_id" in shown.stdout
    assert "crm_accounts" not in shown.stdout
    released = cli(warehouse_url, "quarantine", "release", "--stream", "survey_responses", "--kind", "unknown account_id")
    assert released.returncode == 0, released.stderr
    assert "released 2: inserted 1, updated 0, unchanged 0, quarantined again 1" in released.stdout
    assert open_entries(warehouse) == [("r3/nps", "NPS answer must be 0-10"), ("r2/nps", "unknown account_id")]
