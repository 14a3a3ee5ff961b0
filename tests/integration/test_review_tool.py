"""The review tool end to end: ``python -m customer_health validate-scorecards CANDIDATE.yml``, run as a person runs it.

A scratch include/ holds a small current scorecards file, so every number the
tool prints is worked out here by hand; the warehouse holds that file's live
scores. The candidate raises a threshold and a weight.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from customer_health.config.scorecards import load_scorecards
from customer_health.scoring.engine import register_version, score_day

REPO_ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 22)

CURRENT = """
bands: {red: 40, green: 70}
min_coverage: 0.5
rollup: {method: mean}
scorecards:
  - name: everyone
    groups:
      usage:
        weight: 1
        measures:
          util: {kpi: seat_utilisation, direction: higher_is_better, method: thresholds, red: 0.2, green: 0.6, weight: 2}
          recency: {kpi: days_since_last_login, direction: lower_is_better, method: thresholds, red: 10, green: 2, weight: 1}
"""
# util's cut points move up (0.4 .. 0.8) and recency weighs as much as util.
CANDIDATE = CURRENT.replace("red: 0.2, green: 0.6, weight: 2", "red: 0.4, green: 0.8, weight: 2").replace(
    "red: 10, green: 2, weight: 1", "red: 10, green: 2, weight: 2"
)

# account: (seat_utilisation, days_since_last_login)
ACCOUNTS = {"acc-a": (0.5, 2), "acc-b": (0.4, 6), "acc-c": (0.2, 10), "acc-d": (0.6, 10)}


@pytest.fixture
def include(tmp_path, monkeypatch):
    """A scratch include/: the real SQL, a small current scorecards.yml."""
    root = tmp_path / "include"
    (root / "config").mkdir(parents=True)
    os.symlink(REPO_ROOT / "include" / "sql", root / "sql")
    (root / "config" / "scorecards.yml").write_text(CURRENT, encoding="utf-8")
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(root))
    return root


@pytest.fixture
def scored(warehouse, include):
    """Live scores of DAY under the current file, as the daily run leaves them."""
    for account, (util, days_since_login) in ACCOUNTS.items():
        warehouse.execute(
            "INSERT INTO marts.account_daily_kpis (account_id, day, seat_utilisation, days_since_last_login) "
            "VALUES (%s, %s, %s, %s)",
            [account, DAY, util, days_since_login],
        )
    config, version = load_scorecards()
    register_version(warehouse, config, version, CURRENT)
    score_day(warehouse, DAY, config, version)
    return version


def review(warehouse_url: str, include: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_CONN_WAREHOUSE"}
    env |= {
        "WAREHOUSE_URL": warehouse_url,
        "CUSTOMER_HEALTH_INCLUDE": str(include),
        "PYTHONPATH": os.pathsep.join((str(REPO_ROOT / "plugins"), str(REPO_ROOT))),
    }
    return subprocess.run(
        [sys.executable, "-m", "customer_health", "validate-scorecards", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def live_rows(conn) -> dict[str, list[tuple]]:
    return {
        table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4").fetchall()  # noqa: S608 - constant names
        for table in ("marts.health_scores", "marts.health_score_components", "meta.scorecard_versions",
                      "meta.scorecard_measures", "meta.source_quality")
    }


def test_a_candidate_shows_band_changes_and_movers_with_their_measures(warehouse, warehouse_url, include, scored,
                                                                        tmp_path):
    before = live_rows(warehouse)
    assert len(before["marts.health_scores"]) == 4
    candidate = tmp_path / "candidate.yml"
    candidate.write_text(CANDIDATE, encoding="utf-8")
    _, candidate_version = load_scorecards(candidate)

    done = review(warehouse_url, include, str(candidate))

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{candidate}: 1 scorecards, version {candidate_version} - OK"
    assert lines[1] == f"Dry run for {DAY}: current {scored} vs candidate {candidate_version}"
    # current: a (2*75 + 100)/3 = 83.33 green, b (2*50 + 50)/3 = 50 yellow, c 0 red, d (2*100 + 0)/3 = 66.67 yellow
    # candidate: a (2*25 + 2*100)/4 = 62.5 yellow, b (0 + 2*50)/4 = 25 red, c 0 red, d (2*50 + 0)/4 = 25 red
    assert lines[2:5] == [
        "3 of 4 accounts would change band:",
        "  yellow -> red: 2",
        "  green -> yellow: 1",
    ]
    # Movers by size of the move; each names the measures whose contribution moved it
    # (a: util 2/3*75 = 50 -> 1/2*25 = 12.5, recency 1/3*100 -> 1/2*100).
    assert lines[5:] == [
        "Biggest movers:",
        "  acc-d: 66.7 (yellow) -> 25.0 (red)  because util -41.7",
        "  acc-b: 50.0 (yellow) -> 25.0 (red)  because util -33.3, recency +8.3",
        "  acc-a: 83.3 (green) -> 62.5 (yellow)  because util -37.5, recency +16.7",
        "  acc-c: 0.0 (red) -> 0.0 (red)",
        # Which keys of the file changed, scorecards matched by name.
        "Changed in the YAML:",
        "  scorecards.everyone.groups.usage.measures.recency.weight: 1.0 -> 2.0",
        "  scorecards.everyone.groups.usage.measures.util.green: 0.6 -> 0.8",
        "  scorecards.everyone.groups.usage.measures.util.red: 0.2 -> 0.4",
        # no build_health_scores run recorded here, so no tasks to compare (tested below)
        "CSM tasks: no scoring run in meta.scoring_runs yet (run build_health_scores): no task preview",
    ]
    assert "Traceback" not in done.stderr
    # Everything ran in a transaction that was rolled back: live rows as they were, no trace of the candidate.
    assert live_rows(warehouse) == before
    (candidate_rows,) = warehouse.execute(
        "SELECT count(*) FROM marts.health_scores WHERE config_version = %s", [candidate_version]
    ).fetchone()
    assert candidate_rows == 0


def test_running_it_twice_gives_the_same_answer(warehouse, warehouse_url, include, scored, tmp_path):
    candidate = tmp_path / "candidate.yml"
    candidate.write_text(CANDIDATE, encoding="utf-8")
    first, second = (review(warehouse_url, include, str(candidate)) for _ in range(2))
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout


def test_an_invalid_candidate_names_the_file_and_key_without_a_traceback(warehouse, warehouse_url, include, scored,
                                                                         tmp_path):
    candidate = tmp_path / "typo.yml"
    candidate.write_text(CANDIDATE.replace("weight: 2}", "wieght: 2}", 1), encoding="utf-8")

    done = review(warehouse_url, include, str(candidate))

    assert done.returncode == 2
    assert f"{candidate}: scorecards[0].groups.usage.measures.util.wieght: unknown key (a typo?)" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_an_empty_warehouse_says_what_to_run_first(warehouse, warehouse_url, include, tmp_path):
    candidate = tmp_path / "candidate.yml"
    candidate.write_text(CANDIDATE, encoding="utf-8")

    done = review(warehouse_url, include, str(candidate))

    assert done.returncode == 2
    assert "marts.account_daily_kpis is empty: run build_health_scores first" in done.stderr
    assert "Traceback" not in done.stderr


def test_movers_are_named_with_their_csm_and_arr_when_the_warehouse_knows_them(warehouse, warehouse_url, include,
                                                                                 scored, tmp_path):
    warehouse.execute(
        """INSERT INTO marts.accounts (account_id, valid_from, valid_to, name, csm_name, arr, last_built_on)
           VALUES ('acc-d', NULL, NULL, 'Daikoku Shoji', 'Aiko Tanaka', 48000, %s)""", [DAY])
    candidate = tmp_path / "candidate.yml"
    candidate.write_text(CANDIDATE, encoding="utf-8")
    done = review(warehouse_url, include, str(candidate))
    assert done.returncode == 0, done.stderr
    assert "  Daikoku Shoji (acc-d, CSM Aiko Tanaka, ARR 48,000): 66.7 (yellow) -> 25.0 (red)  because util -41.7" \
        in done.stdout.splitlines()


CMI = """
stale_after_days: 180
quadrants: {health_cut: 60, maturity_cut: 3.0}
characteristics:
  strategy:
    label: Strategy
    weight: 1
    factors:
      direction: {questions: {s_what: what}}
"""

PLAYBOOKS = """
defaults: {fallback_queue: cs-queue, channels: [crm], cooldown_days: 7, auto_close: true}
plays:
  - name: red_alert
    when: {band: [red]}
    task: {title: "Red: {{ account.name }}", body: "{{ reason }}", who: x, what: x, when: x, where: x, why: x, how: x}
  - name: green_thanks
    when: {band: [green]}
    task: {title: "Thank {{ account.name }}", body: "{{ reason }}", who: x, what: x, when: x, where: x, why: x, how: x}
"""

NAMES = {"acc-a": ("Asahi Denki", "Aiko Tanaka"), "acc-b": ("Bando Kogyo", "Kenji Sato"),
         "acc-c": ("Chiba Foods", "Kenji Sato"), "acc-d": ("Daikoku Shoji", "Aiko Tanaka")}


@pytest.fixture
def tasked(warehouse, include, scored):
    """What build_health_scores and create_csm_tasks leave for DAY: accounts, quadrants, the scoring run, and the
    live tasks (red_alert for acc-c, the only red; green_thanks for acc-a, the only green)."""
    from customer_health.config.cmi import load_cmi
    from customer_health.config.playbooks import load_playbooks
    from customer_health.playbooks.engine import run_playbooks
    from customer_health.scoring.maturity import assign_quadrants
    from customer_health.warehouse import config_versions

    for account, (name, csm) in NAMES.items():
        warehouse.execute("INSERT INTO marts.accounts (account_id, valid_from, valid_to, name, csm_name, last_built_on) "
                          "VALUES (%s, NULL, NULL, %s, %s, %s)", [account, name, csm, DAY])
    (include / "config" / "cmi.yml").write_text(CMI, encoding="utf-8")
    (include / "config" / "playbooks.yml").write_text(PLAYBOOKS, encoding="utf-8")
    cmi, cmi_version = load_cmi()
    config_versions.register(warehouse, "cmi", cmi_version, CMI)
    assign_quadrants(warehouse, DAY, cmi, cmi_version, scored)
    config_versions.record_scoring_run(warehouse, DAY, scored, cmi_version, 1)
    playbooks, playbooks_version = load_playbooks()
    run = run_playbooks(warehouse, DAY, playbooks, playbooks_version, scored, cmi_version)
    assert run.created == {"red_alert": 1, "green_thanks": 1}
    return playbooks_version


def test_a_candidate_shows_the_csm_tasks_it_would_create_and_close(warehouse, warehouse_url, include, tasked,
                                                                    tmp_path):
    tasks_before = warehouse.execute("SELECT * FROM marts.csm_tasks ORDER BY task_id").fetchall()
    history_before = warehouse.execute("SELECT * FROM marts.csm_task_history ORDER BY 1, 2").fetchall()
    before = live_rows(warehouse)
    candidate = tmp_path / "candidate.yml"
    candidate.write_text(CANDIDATE, encoding="utf-8")

    done = review(warehouse_url, include, str(candidate))

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = lines.index(f"CSM tasks on {DAY}, the latest scored day (playbooks.yml {tasked}, against the tasks open now):")
    # The candidate turns b and d red (red_alert for them) and a yellow (its green_thanks task closes);
    # the live scorecards, whose tasks are already open, would change nothing.
    assert lines[start + 1:] == [
        "  live scorecards: would create 0, close 0; candidate: would create 2, close 1",
        "  created only with the candidate (2):",
        "    red_alert: Bando Kogyo (acc-b), CSM Kenji Sato: band red",
        "    red_alert: Daikoku Shoji (acc-d), CSM Aiko Tanaka: band red",
        "  closed only with the candidate (1):",
        "    green_thanks: Asahi Denki (acc-a), CSM Aiko Tanaka: condition cleared",
    ]
    # nothing written: tasks, their history and the live scores are as they were
    assert warehouse.execute("SELECT * FROM marts.csm_tasks ORDER BY task_id").fetchall() == tasks_before
    assert warehouse.execute("SELECT * FROM marts.csm_task_history ORDER BY 1, 2").fetchall() == history_before
    assert live_rows(warehouse) == before


def test_the_task_preview_is_only_for_the_latest_scored_day(warehouse, warehouse_url, include, tasked, tmp_path):
    candidate = tmp_path / "candidate.yml"
    candidate.write_text(CANDIDATE, encoding="utf-8")
    done = review(warehouse_url, include, str(candidate), "--day", "2026-11-21")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        f"CSM tasks: previewed only for the latest scored day ({DAY}); this dry run is of 2026-11-21")
