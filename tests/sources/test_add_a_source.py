"""The README's "Adding a source" steps, run as written, through real Airflow DAG runs."""
from __future__ import annotations

import re
import shutil
import sys
import textwrap
import types
from datetime import datetime, timezone

import pytest
import yaml

from customer_health.config import ConfigError
from customer_health.config.sources import load_sources
from customer_health.sources import registry
from demo.localenv import REPO_ROOT
from tests.helpers import accounts, load_rows

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def snippet(name: str) -> str:
    match = re.search(rf"<!-- add-a-source:{name} -->\s*```\w+\n(.*?)```\s*<!-- /add-a-source:{name} -->", README, re.S)
    assert match, f"README lost its add-a-source:{name} snippet"
    return match.group(1)


@pytest.fixture
def include_copy(tmp_path, monkeypatch):
    """A scratch copy of include/, used by config loading and DAG parsing in this process."""
    target = tmp_path / "include"
    shutil.copytree(REPO_ROOT / "include", target)
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(target))
    return target


def append_source(include, text: str) -> None:
    path = include / "config" / "sources.yml"
    path.write_text(path.read_text(encoding="utf-8").rstrip() + "\n\n" + text, encoding="utf-8")


def run_dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert bag.import_errors == {}
    run = bag.dags[dag_id].test(logical_date=datetime(2026, 11, 23, tzinfo=timezone.utc))
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def test_a_new_source_of_a_known_kind_is_a_yaml_entry(include_copy, tmp_path, warehouse, airflow_db):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "accounts_20261122.csv").write_text(
        "account_id,name,parent_account_id,csm_owner_id,employees,industry,region,lifecycle_stage,created_at\n"
        "jp-1,Sakura KK,,7,120,Retail,JP,customer,2025-04-01\n"
        "jp-2,Fuji GK,,7,abc,Retail,JP,customer,2025-05-01\n",
        encoding="utf-8",
    )
    (exports / "contracts_20261122.csv").write_text(
        "contract_id,account_id,start_date,end_date,arr,status\nk-1,jp-1,2026-04-01,2027-03-31,12000,active\n",
        encoding="utf-8",
    )
    entry = snippet("yaml").replace("/data/exports/subsidiary_crm", str(exports))
    append_source(include_copy, entry)
    assert "subsidiary_crm" in load_sources()

    states = run_dag("ingest_subsidiary_crm")
    assert set(states.values()) == {"success"}, states
    assert warehouse.execute("SELECT account_id FROM staging.crm_accounts").fetchall() == [("jp-1",)]
    assert warehouse.execute("SELECT contract_id FROM staging.crm_contracts").fetchall() == [("k-1",)]
    assert warehouse.execute("SELECT reason FROM meta.quarantine").fetchall() == [("unparseable employees: 'abc'",)]


def test_a_new_kind_is_one_small_class(include_copy, tmp_path, warehouse, warehouse_url, airflow_db, monkeypatch):
    assert "jsonl" not in registry.KINDS
    module = types.ModuleType("customer_health.sources.jsonl")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    try:
        # Defining the class is the whole registration: no list to edit.
        exec(compile(snippet("kind"), "README:jsonl", "exec"), module.__dict__)  # noqa: S102 - the README's own code
        assert registry.extractor_class("jsonl") is module.JsonlExtractor
        run_jsonl_source(include_copy, tmp_path, warehouse, warehouse_url)
    finally:
        registry.KINDS.unregister("jsonl")


def run_jsonl_source(include_copy, tmp_path, warehouse, warehouse_url):
    folder = tmp_path / "nps"
    folder.mkdir()
    (folder / "nps_20261122.jsonl").write_text(
        '{"id": "n1", "account": "a1", "email": "k@example.jp", "survey": "nps", "q": "nps", "score": 9, "at": "2026-11-22T09:00:00Z"}\n'
        '{"id": "n2", "account": "a1", "email": "k@example.jp", "survey": "nps", "q": "nps", "score": 12, "at": "2026-11-22T09:30:00Z"}\n',
        encoding="utf-8",
    )
    fields = {"response_id": "id", "account_id": "account", "respondent": "email", "question_id": "q",
              "answer": "score", "submitted_at": "at"}
    entry = {"nps_jsonl": {
        "kind": "jsonl", "owner": "cs-ops", "options": {"folder": str(folder)},
        "streams": {"survey_responses": {"glob": "*.jsonl", "fields": fields}},
    }}
    append_source(include_copy, textwrap.indent(yaml.safe_dump(entry, sort_keys=False), "  "))
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    states = run_dag("ingest_nps_jsonl")
    assert set(states.values()) == {"success"}, states
    assert warehouse.execute("SELECT response_id, answer FROM staging.survey_responses").fetchall() == [("n1", 9)]
    assert warehouse.execute("SELECT reason FROM meta.quarantine").fetchall() == [("NPS answer must be 0-10, got 12",)]


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        (("crm_contracts:", "crm_contract:"), "sources.subsidiary_crm.streams: Value error, unknown stream 'crm_contract'; allowed: churn_events, crm_accounts"),
        (("kind: csv", "kind: cvs"), "sources.subsidiary_crm.kind: unknown kind 'cvs'; allowed: csv, hubspot, postgres, typeform"),
        (("folder:", "fodler:"), "sources.subsidiary_crm.options.fodler: unknown key (a typo?)"),
        (("{glob: \"accounts_*.csv\", min_rows: 1}", "{glob: \"accounts_*.csv\", min_rows: many}"),
         "sources.subsidiary_crm.streams.crm_accounts.min_rows: Input should be a valid integer"),
    ],
)
def test_a_typo_in_the_new_entry_names_file_key_and_what_is_allowed(include_copy, typo, expected):
    append_source(include_copy, snippet("yaml").replace(*typo))
    with pytest.raises(ConfigError) as error:
        load_sources()
    assert f"sources.yml: {expected}" in str(error.value)
