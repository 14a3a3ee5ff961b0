"""Config versions travel through the warehouse: a YAML file edited between two DAG runs does not break the second.

build_health_scores runs for real through Airflow; create_csm_tasks' playbook
step is called as its tasks call it (validate_config -> register_playbooks,
run_playbooks -> create_tasks), since its delivery steps need CRM and chat
connections this test does not set up.
"""
from __future__ import annotations

import shutil
from datetime import date, datetime, timezone

import pytest

from customer_health.playbooks.pipeline import create_tasks, register_playbooks
from customer_health.contracts.versions import scoring_version
from customer_health.scoring.pipeline import register_configs
from demo.localenv import REPO_ROOT
from tests.helpers import accounts, load_rows

RUN_AT = datetime(2026, 11, 22, tzinfo=timezone.utc)
SCORED_DAY = date(2026, 11, 21)

SCORECARDS = """
bands: {red: 40, green: 70}
min_coverage: 0.5
rollup: {method: mean}
scorecards:
  - name: everyone
    groups:
      size:
        weight: 1
        measures:
          employees: {kpi: employees, direction: higher_is_better, method: thresholds, red: 10, green: 100, weight: 1}
"""

PLAYBOOKS = """
defaults: {fallback_queue: cs-queue, channels: [crm], cooldown_days: 7, auto_close: true}
plays:
  - name: assess
    when: {cmi: missing_or_stale}
    task: {title: "Assess {{ account.name }}", body: "{{ reason }}", who: "{{ account.csm_name }}",
           what: x, when: x, where: x, why: x, how: x}
"""


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    """A scratch copy of include/ the pipeline reads (CUSTOMER_HEALTH_INCLUDE), with small configs."""
    include = tmp_path / "include"
    shutil.copytree(REPO_ROOT / "include", include)
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))
    config = include / "config"
    (config / "scorecards.yml").write_text(SCORECARDS, encoding="utf-8")
    (config / "playbooks.yml").write_text(PLAYBOOKS, encoding="utf-8")
    return config


def crm(warehouse_url):
    load_rows(warehouse_url, "crm_owners", [{"owner_id": "7", "email": "aiko@example.jp", "name": "Aiko"}])
    rows = accounts("a1", "a2")
    rows[1]["employees"] = "500"
    for row in rows:
        row["csm_owner_id"] = "7"
    load_rows(warehouse_url, "crm_accounts", rows)


def open_tasks(conn):
    return sorted(conn.execute("SELECT play, account_id, title, owner_email FROM marts.csm_tasks WHERE status = 'open'"))


@pytest.mark.airflow
def test_editing_scorecards_and_cmi_after_scoring_leaves_the_task_run_on_the_scored_versions(
        warehouse, warehouse_url, config_dir, airflow_db):
    from tests.integration.test_ingest_dags import run_dag

    crm(warehouse_url)
    states = run_dag("build_health_scores", RUN_AT)
    assert set(states.values()) == {"success"}, states

    run = warehouse.execute("SELECT day, scoring_version, cmi_version FROM meta.scoring_runs").fetchall()
    assert len(run) == 1 and run[0][0] == SCORED_DAY
    (_, scored_version, cmi_version) = run[0]
    parts = warehouse.execute("SELECT parts FROM meta.config_versions WHERE kind = 'scoring' AND version = %s",
                              [scored_version]).fetchone()[0]
    assert scored_version == scoring_version(parts["scorecards"], parts["kpis"])
    assert {k for (k,) in warehouse.execute("SELECT kind FROM meta.config_versions")} == {"scorecards", "kpis", "cmi", "scoring"}
    assert warehouse.execute("SELECT DISTINCT config_version FROM marts.health_scores").fetchall() == [(scored_version,)]

    # Between the scoring run and the task run, CS ops edits both files the quadrants depend on.
    scorecards = config_dir / "scorecards.yml"
    scorecards.write_text(scorecards.read_text(encoding="utf-8").replace("red: 40, green: 70", "red: 30, green: 60"),
                          encoding="utf-8")
    cmi = config_dir / "cmi.yml"
    cmi.write_text(cmi.read_text(encoding="utf-8") + "\n# edited after the scoring run\n", encoding="utf-8")
    assert register_configs(warehouse_url).scoring != scored_version, "the edit is a new, registered version"

    played = create_tasks(playbooks_version=register_playbooks(warehouse_url), warehouse_url=warehouse_url)
    assert played.day == SCORED_DAY and played.created == {"assess": 2}
    assert open_tasks(warehouse) == [("assess", "a1", "Assess Account a1", "aiko@example.jp"),
                                     ("assess", "a2", "Assess Account a2", "aiko@example.jp")]
    assert cmi_version == warehouse.execute("SELECT DISTINCT cmi_version FROM marts.account_quadrants").fetchone()[0]


def test_the_task_step_runs_the_playbooks_its_first_step_registered(warehouse, warehouse_url, config_dir):
    from customer_health.scoring.pipeline import build_and_score

    crm(warehouse_url)
    build_and_score(SCORED_DAY, warehouse_url=warehouse_url)
    version = register_playbooks(warehouse_url)  # validate_config
    playbooks = config_dir / "playbooks.yml"
    playbooks.write_text(PLAYBOOKS.replace("Assess {{", "Edited {{"), encoding="utf-8")
    create_tasks(playbooks_version=version, warehouse_url=warehouse_url)  # run_playbooks, after the edit
    assert [t[2] for t in open_tasks(warehouse)] == ["Assess Account a1", "Assess Account a2"]


def test_a_changed_kpi_definition_is_a_new_scoring_version(warehouse, warehouse_url, config_dir):
    first = register_configs(warehouse_url)
    kpis = config_dir / "kpis.yml"
    kpis.write_text(kpis.read_text(encoding="utf-8") + "\n# a changed definition\n", encoding="utf-8")
    second = register_configs(warehouse_url)
    assert second.scorecards == first.scorecards and second.kpis != first.kpis
    assert second.scoring != first.scoring
    rows = dict(warehouse.execute("SELECT version, parts FROM meta.config_versions WHERE kind = 'scoring'").fetchall())
    assert rows == {first.scoring: {"scorecards": first.scorecards, "kpis": first.kpis},
                    second.scoring: {"scorecards": second.scorecards, "kpis": second.kpis}}
    stored = warehouse.execute("SELECT source_yaml FROM meta.config_versions WHERE kind = 'kpis' AND version = %s",
                               [second.kpis]).fetchone()[0]
    assert stored == kpis.read_text(encoding="utf-8")
    # The scorecard rows scores are computed from are stored under the scoring version.
    assert {v for (v,) in warehouse.execute("SELECT config_version FROM meta.scorecard_versions")} == {first.scoring, second.scoring}
