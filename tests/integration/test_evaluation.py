"""The Check of PDCA end to end on a warehouse with a known truth: outcomes from contracts, the cohort,
the verdict with its interval, what lands in marts.evaluation_*, and the `evaluate` command."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

import numpy as np
import pytest

from customer_health.config.evaluation import EvaluationFile
from customer_health.evaluation.evaluate import evaluate
from customer_health.evaluation.outcomes import build_outcomes
from demo.localenv import REPO_ROOT

FIRST_DAY, LAST_DAY = date(2025, 12, 31), date(2026, 6, 30)
# The last day whose 30-day horizon and 30 grace days fit before LAST_DAY, then every 30 days back to
# 30 days after FIRST_DAY.
REFERENCE_DATES = [date(2026, 1, 30), date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 30)]
SETTINGS = EvaluationFile(horizons_days=[30], bootstrap_samples=200)
VERSION = "v_test"


def _contract(conn, contract_id, account_id, start, end, arr):
    conn.execute(
        """INSERT INTO staging.crm_contracts (contract_id, account_id, start_date, end_date, arr, status, _source, _batch_id)
           VALUES (%s, %s, %s, %s, %s, 'active', 'test', 1)""",
        [contract_id, account_id, start, end, arr],
    )


def test_outcomes_come_from_contract_ends_with_grace_days(warehouse):
    _contract(warehouse, "c1", "churner", date(2025, 3, 1), date(2026, 3, 1), 1000)
    _contract(warehouse, "c2", "renewer", date(2025, 3, 1), date(2026, 3, 1), 1000)
    _contract(warehouse, "c3", "renewer", date(2026, 3, 1), date(2027, 3, 1), 1030)  # +3 %: a renewal
    _contract(warehouse, "c4", "grower", date(2025, 3, 1), date(2026, 3, 1), 1000)
    _contract(warehouse, "c5", "grower", date(2026, 3, 10), date(2027, 3, 10), 1500)  # late by 9 days, within grace
    _contract(warehouse, "c6", "shrinker", date(2025, 3, 1), date(2026, 3, 1), 1000)
    _contract(warehouse, "c7", "shrinker", date(2026, 3, 1), date(2027, 3, 1), 600)
    _contract(warehouse, "c8", "pending", date(2025, 6, 10), date(2026, 6, 10), 1000)  # grace not over by as_of
    build_outcomes(warehouse, SETTINGS, as_of=LAST_DAY)
    outcomes = {(a, o): (d, k) for a, o, d, k in warehouse.execute(
        "SELECT account_id, outcome, outcome_date, known_on FROM marts.account_outcomes")}
    assert set(outcomes) == {("churner", "churned"), ("renewer", "renewed"), ("grower", "expanded"),
                             ("shrinker", "contracted")}
    assert outcomes[("churner", "churned")] == (date(2026, 3, 1), date(2026, 4, 1))
    # Rebuilding gives the same table.
    build_outcomes(warehouse, SETTINGS, as_of=LAST_DAY)
    assert warehouse.execute("SELECT count(*) FROM marts.account_outcomes").fetchone()[0] == 4



def test_two_concurrent_outcome_builds_run_one_after_the_other(warehouse, warehouse_url):
    """A second rebuild started while the first is uncommitted waits for it, then gives the same table
    (without the lock its INSERT hit the first one's keys: a UniqueViolation)."""
    import threading

    import psycopg

    _contract(warehouse, "c1", "churner", date(2025, 3, 1), date(2026, 3, 1), 1000)
    _contract(warehouse, "c2", "renewer", date(2025, 3, 1), date(2026, 3, 1), 1000)
    _contract(warehouse, "c3", "renewer", date(2026, 3, 1), date(2027, 3, 1), 1030)
    build_outcomes(warehouse, SETTINGS, as_of=LAST_DAY)
    outcomes = ("SELECT account_id, outcome, outcome_date, known_on, arr_before, arr_after, contract_id, evidence "
                "FROM marts.account_outcomes ORDER BY account_id, outcome")
    expected = warehouse.execute(outcomes).fetchall()
    failures: list[BaseException] = []

    def second_build(conn) -> None:
        try:
            build_outcomes(conn, SETTINGS, as_of=LAST_DAY)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    with psycopg.connect(warehouse_url) as first, psycopg.connect(warehouse_url, autocommit=True) as second:
        second_pid = second.info.backend_pid
        with first.transaction():
            build_outcomes(first, SETTINGS, as_of=LAST_DAY)
            thread = threading.Thread(target=second_build, args=(second,))
            thread.start()
            waiting = False
            for _ in range(200):  # until the second build waits on a lock (at most ~10 s)
                waiting = warehouse.execute(
                    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", [second_pid]
                ).fetchone()[0]
                if waiting:
                    break
                threading.Event().wait(0.05)
            assert waiting, "the second build did not wait for the first"
        thread.join()
    assert not failures, failures
    assert warehouse.execute(outcomes).fetchall() == expected


def _plant(conn, *, signal: bool, seed: int = 11, accounts: int = 400, driver: str = "score",
           scores: bool = True) -> set[str]:
    """Scores and KPIs on four reference dates; churn drawn from the ``driver`` (the score, or the KPI
    logins_30d) when ``signal``, else independently of everything. Returns the accounts that churned."""
    rng = np.random.default_rng(seed)
    if scores:
        conn.execute("INSERT INTO meta.scorecard_versions (config_version, source_yaml, rollup_method) "
                     "VALUES (%s, '', 'mean')", [VERSION])
    conn.execute("""INSERT INTO intermediate.account_day_activity
                    (day, account_id, events, logins, session_ms, core_actions, active_users, feature_bits)
                    VALUES (%s, 'A0', 1, 1, 0, 0, 1, 0)""", [FIRST_DAY])
    churned: dict[str, date] = {}
    score_rows, kpi_rows = [], []
    for day in REFERENCE_DATES:
        for i in range(accounts):
            account = f"A{i}"
            if account in churned and churned[account] <= day:
                continue  # a churned account still gets scored in real life: the cohort must drop it
            score = float(rng.uniform(0, 100))
            logins = float(rng.uniform(0, 100))
            cause = score if driver == "score" else logins
            p = 1 / (1 + np.exp((cause - 25) / 8)) if signal else 0.08
            if account not in churned and rng.random() < p:
                churned[account] = day + timedelta(days=int(rng.integers(5, 28)))
            band = "red" if score < 40 else ("green" if score >= 70 else "yellow")
            score_rows.append((account, day, VERSION, "smb", round(score, 2), band, 1.0))
            kpi_rows.append((account, day, 1000, 90, logins, float(rng.poisson(20)), float(rng.normal())))
    for account, end in churned.items():
        _contract(conn, f"k{account}", account, end - timedelta(days=365), end, 1000)
    for i in range(accounts):
        if f"A{i}" not in churned:
            _contract(conn, f"k{i}", f"A{i}", date(2025, 1, 1), date(2027, 1, 1), 1000)
    kpi_rows.append(("A0", LAST_DAY, 1000, 90, 1.0, 1.0, 0.0))
    with conn.cursor() as cur:
        if scores:
            cur.executemany("""INSERT INTO marts.health_scores
                               (account_id, day, config_version, scorecard, score, band, coverage)
                               VALUES (%s, %s, %s, %s, %s, %s, %s)""", score_rows)
        cur.executemany("""INSERT INTO marts.account_daily_kpis
                           (account_id, day, arr, days_to_renewal, logins_30d, core_actions_30d, logins_change_30d_pct)
                           VALUES (%s, %s, %s, %s, %s, %s, %s)""", kpi_rows)
    return set(churned)


def test_a_score_that_foresees_churn_is_judged_so_with_its_interval(warehouse):
    churners = _plant(warehouse, signal=True)
    (result,) = evaluate(warehouse, SETTINGS, version=VERSION)
    assert result.reference_dates == REFERENCE_DATES
    assert result.churned_rows == len(churners)
    assert result.score_auc.low > 0.6, result.verdict
    assert result.verdict.startswith("The score foresees churn"), result.verdict
    assert "95 % CI" in result.verdict
    # Stored: the run with its interval, and churn falling as the score decile rises.
    run = warehouse.execute("SELECT auc, auc_low, auc_high, rows_evaluated, verdict FROM marts.evaluation_runs "
                            "WHERE run_id = %s", [result.run_id]).fetchone()
    assert run[1] < run[0] < run[2] and run[3] == result.rows and run[4] == result.verdict
    deciles = [r[0] for r in warehouse.execute(
        """SELECT churn_rate FROM marts.evaluation_bins WHERE run_id = %s AND scope = 'all' AND bin_kind = 'decile'
           ORDER BY position""", [result.run_id])]
    assert len(deciles) == 10 and deciles[0] > deciles[-1]
    red = result.metric("score", "health_score", "red_precision")
    assert red.estimate.low is not None and red.estimate.value > result.churned_rows / result.rows
    # No row of an account after its churn.
    after = warehouse.execute(
        """SELECT count(*) FROM marts.health_scores h JOIN marts.account_outcomes o USING (account_id)
           WHERE o.outcome = 'churned' AND h.day >= o.outcome_date""").fetchone()[0]
    assert after == 0 or result.rows < warehouse.execute("SELECT count(*) FROM marts.health_scores").fetchone()[0]


def test_a_score_unrelated_to_churn_gets_no_significant_signal(warehouse):
    _plant(warehouse, signal=False)
    (result,) = evaluate(warehouse, SETTINGS, version=VERSION)
    assert result.churned_rows >= SETTINGS.min_churned_rows
    assert result.score_auc.includes_half
    assert result.verdict.startswith("No significant signal"), result.verdict


def test_too_few_churns_says_so(warehouse):
    _plant(warehouse, signal=False, accounts=30)
    (result,) = evaluate(warehouse, EvaluationFile(horizons_days=[30], bootstrap_samples=50, min_churned_rows=50),
                         version=VERSION)
    assert result.verdict.startswith("Too few to tell"), result.verdict


def test_the_evaluate_command_prints_the_verdict_and_writes_the_report(warehouse, warehouse_url, tmp_path):
    _plant(warehouse, signal=True)
    report = tmp_path / "evaluation.html"
    result = subprocess.run(
        [sys.executable, "-m", "customer_health", "evaluate", "--no-backfill", "--horizon", "30", "--report", str(report)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "WAREHOUSE_URL": warehouse_url, "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
             "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "30 days (run " in result.stdout and "The score foresees churn" in result.stdout
    page = report.read_text(encoding="utf-8")
    assert "Does the health score foresee churn?" in page and "95 % interval" in page
    assert "http" not in page.split("<body>")[0], "the page loads nothing from the network"


def test_evaluate_without_scores_says_what_to_run(warehouse, warehouse_url):
    result = subprocess.run(
        [sys.executable, "-m", "customer_health", "evaluate", "--no-backfill"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "WAREHOUSE_URL": warehouse_url, "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
             "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}"},
    )
    assert result.returncode == 2
    assert "run build_health_scores first" in result.stderr and "Traceback" not in result.stderr


def test_fitting_recovers_a_known_driver_and_writes_a_valid_scorecard(warehouse):
    from customer_health.config.scorecards import ScorecardsFile, load_scorecards
    from customer_health.evaluation.fit import fit_scorecard

    import yaml

    _plant(warehouse, signal=True, driver="logins")
    fit, text = fit_scorecard(warehouse, SETTINGS, horizon=30, live=load_scorecards()[0])
    assert fit.written and text is not None, fit.message
    assert fit.train_dates == REFERENCE_DATES[:3] and fit.test_dates == REFERENCE_DATES[3:]  # time-ordered
    top = max(fit.measures, key=lambda m: m.weight)
    assert (top.kpi, top.direction) == ("logins_30d", "higher_is_better")
    assert top.weight > 70, fit.measures  # the noise KPIs get little or nothing
    assert fit.candidate_auc.low > 0.6
    assert fit.live_auc is not None and fit.live_auc.includes_half  # the planted score is noise here
    candidate = ScorecardsFile.model_validate(yaml.safe_load(text))
    assert candidate.scorecards[0].groups["fitted"].measures["logins_30d"].method == "percentile"
    assert "Held-out ROC AUC" in text and "alone, as this measure, ROC AUC" in text


def test_fitting_without_signal_writes_nothing(warehouse):
    from customer_health.evaluation.fit import fit_scorecard

    _plant(warehouse, signal=False)
    fit, text = fit_scorecard(warehouse, SETTINGS, horizon=30)
    assert text is None and not fit.written
    assert "nothing written" in fit.message or "No significant signal" in fit.message


def _scorecards(kpi: str, direction: str) -> str:
    return f"""
bands: {{red: 40, green: 70}}
min_coverage: 0.5
scorecards:
  - name: everyone
    groups:
      usage:
        weight: 1
        measures:
          m: {{kpi: {kpi}, direction: {direction}, method: percentile, weight: 1}}
"""


def test_a_backtest_scores_history_under_a_candidate_and_compares_on_identical_rows(warehouse, tmp_path):
    from customer_health.config.scorecards import load_scorecards
    from customer_health.evaluation.backtest import backtest
    from customer_health.evaluation.evaluate import live_version
    from customer_health.scoring.engine import register_version, score_day

    _plant(warehouse, signal=True, driver="logins", scores=False)
    live_path, good_path, bad_path = (tmp_path / n for n in ("live.yml", "good.yml", "bad.yml"))
    live_path.write_text(_scorecards("core_actions_30d", "higher_is_better"), encoding="utf-8")  # noise
    good_path.write_text(_scorecards("logins_30d", "higher_is_better"), encoding="utf-8")  # the planted driver
    bad_path.write_text(_scorecards("logins_30d", "lower_is_better"), encoding="utf-8")  # the driver, backwards
    live_config, live = load_scorecards(live_path)
    register_version(warehouse, live_config, live, live_path.read_text())
    for day in REFERENCE_DATES:
        score_day(warehouse, day, live_config, live)
    live_rows = warehouse.execute(
        "SELECT account_id, day, score, band, computed_at FROM marts.health_scores WHERE config_version = %s "
        "ORDER BY account_id, day", [live]).fetchall()

    (better,) = backtest(warehouse, good_path, SETTINGS, horizons=[30])
    (worse,) = backtest(warehouse, bad_path, SETTINGS, horizons=[30])

    assert better.verdict.startswith("The candidate is better"), better.verdict
    assert better.low > 0 and worse.high < 0, (better.verdict, worse.verdict)
    assert worse.verdict.startswith("The candidate is worse")
    assert better.rows == worse.rows == better.live.rows  # identical rows for both versions
    assert "95 % CI" in better.verdict
    # Live rows untouched, candidates marked and never taken for the live version.
    assert warehouse.execute(
        "SELECT account_id, day, score, band, computed_at FROM marts.health_scores WHERE config_version = %s "
        "ORDER BY account_id, day", [live]).fetchall() == live_rows
    roles = dict(warehouse.execute("SELECT config_version, role FROM meta.scorecard_versions"))
    assert roles[live] == "live" and sorted(roles.values()) == ["candidate", "candidate", "live"]
    assert live_version(warehouse) == live
    stored = warehouse.execute("SELECT count(*) FROM marts.evaluation_comparisons").fetchone()[0]
    assert stored == 2


def test_validate_config_warns_about_event_names_that_never_occur(warehouse, warehouse_url, tmp_path):
    import shutil

    include = tmp_path / "include"
    shutil.copytree(REPO_ROOT / "include", include)
    kpis = include / "config" / "kpis.yml"
    kpis.write_text(kpis.read_text(encoding="utf-8").replace("  - message_sent\n", "  - message_sent\n  - post_created\n"),
                    encoding="utf-8")
    warehouse.execute("""INSERT INTO intermediate.event_names (event_name, bit, first_seen_on)
                         SELECT name, row_number() OVER (ORDER BY name) - 1, '2026-01-01'
                         FROM unnest(ARRAY['login', 'message_sent', 'comment_added']) AS name""")
    result = subprocess.run(
        [sys.executable, "-m", "customer_health", "validate-config"], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=300, env={**os.environ, "WAREHOUSE_URL": warehouse_url, "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
                          "CUSTOMER_HEALTH_INCLUDE": str(include),
                          "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "WARNING kpis.yml: event 'post_created' never occurs" in result.stdout
    assert "WARNING kpis.yml: event 'message_sent'" not in result.stdout


@pytest.mark.airflow
def test_the_evaluate_scores_dag_writes_the_runs_and_the_report(warehouse, airflow_db, tmp_path, monkeypatch):
    from datetime import datetime, timezone

    from airflow.dag_processing.dagbag import DagBag

    _plant(warehouse, signal=True)
    monkeypatch.setenv("EVALUATION_REPORT_DIR", str(tmp_path))
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    run = bag.dags["evaluate_scores"].test(logical_date=datetime(2026, 7, 6, tzinfo=timezone.utc))
    assert {ti.task_id: ti.state for ti in run.get_task_instances()} == {"validate_config": "success", "evaluate": "success"}
    horizons = [r[0] for r in warehouse.execute("SELECT horizon_days FROM marts.evaluation_runs ORDER BY 1")]
    assert horizons == [30, 60, 90]
    assert "Does the health score foresee churn?" in (tmp_path / "evaluation.html").read_text(encoding="utf-8")


def _task(conn, play, account, day, held_out):
    conn.execute(
        """INSERT INTO marts.csm_tasks (play, account_id, dedup_key, day, playbooks_version, status, priority, title,
                                        body, reason, due_date, channels, five_w1h, held_out)
           VALUES (%s, %s, %s, %s, 'p1', 'completed', 'high', 't', 'b', 'r', %s, %s, '{}', %s)""",
        [play, account, f"{play}/{account}/{day}", day, day, [] if held_out else ["crm"], held_out],
    )


def test_a_play_is_judged_against_its_held_out_accounts(warehouse):
    """Accounts a play reached churned less than its held-out ones: the effect is found, with its interval;
    a play with a handful of held-out tasks is "too few to tell"."""
    rng = np.random.default_rng(5)
    warehouse.execute("INSERT INTO meta.scorecard_versions (config_version, source_yaml, rollup_method) "
                      "VALUES (%s, '', 'mean')", [VERSION])
    warehouse.execute("""INSERT INTO intermediate.account_day_activity
                         (day, account_id, events, logins, session_ms, core_actions, active_users, feature_bits)
                         VALUES (%s, 'A0', 1, 1, 0, 0, 1, 0)""", [FIRST_DAY])
    warehouse.execute("INSERT INTO marts.account_daily_kpis (account_id, day) VALUES ('A0', %s)", [LAST_DAY])
    task_day = date(2026, 3, 1)
    for i in range(600):
        account, held = f"T{i}", i % 3 == 0
        churns = rng.random() < (0.4 if held else 0.1)
        end = task_day + timedelta(days=10) if churns else date(2027, 1, 1)
        _contract(warehouse, f"c{i}", account, end - timedelta(days=365), end, 1000)
        _task(warehouse, "rescue", account, task_day, held)
        if i < 40:
            _task(warehouse, "tiny", account, task_day, i < 3)
    (result,) = evaluate(warehouse, SETTINGS, version=VERSION)
    effects = {e.play: e for e in result.play_effects}
    rescue = effects["rescue"]
    assert (rescue.treated, rescue.held_out) == (400, 200)
    assert rescue.churn_difference_high < 0, rescue.verdict
    assert rescue.verdict.startswith("Churn is lower where the play ran"), rescue.verdict
    assert effects["tiny"].verdict.startswith("Too few to tell")
    stored = warehouse.execute("SELECT play, verdict FROM marts.evaluation_play_effects WHERE run_id = %s ORDER BY play",
                               [result.run_id]).fetchall()
    assert [p for p, _ in stored] == ["rescue", "tiny"]


def test_a_recorded_churn_event_is_an_outcome_like_a_contract_end(warehouse, warehouse_url):
    from tests.helpers import accounts, load_rows

    load_rows(warehouse_url, "crm_accounts", accounts("evented", "other"))
    result = load_rows(warehouse_url, "churn_events", [
        {"account_id": "evented", "churned_at": "2026-04-15", "reason": "moved to a competitor"},
        {"account_id": "other", "churned_at": "2026-02-30", "reason": ""},  # no such day: quarantined
    ])
    assert (result.rows_inserted, result.rows_quarantined) == (1, 1)
    build_outcomes(warehouse, SETTINGS, as_of=LAST_DAY)
    rows = warehouse.execute("SELECT account_id, outcome, outcome_date, evidence FROM marts.account_outcomes").fetchall()
    assert rows == [("evented", "churned", date(2026, 4, 15), "churn recorded by test on 2026-04-15: moved to a competitor")]


def _cli(warehouse_url, *args):
    return subprocess.run(
        [sys.executable, "-m", "customer_health", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "WAREHOUSE_URL": warehouse_url, "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
             "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}"},
    )


def test_the_readme_commands_backtest_fit_migrate_and_quarantine_run(warehouse, warehouse_url, tmp_path):
    from customer_health.config.scorecards import load_scorecards
    from customer_health.scoring.engine import register_version, score_day

    _plant(warehouse, signal=True, driver="logins", scores=False)
    live_path, good_path = tmp_path / "live.yml", tmp_path / "good.yml"
    live_path.write_text(_scorecards("core_actions_30d", "higher_is_better"), encoding="utf-8")
    good_path.write_text(_scorecards("logins_30d", "higher_is_better"), encoding="utf-8")
    live_config, live = load_scorecards(live_path)
    register_version(warehouse, live_config, live, live_path.read_text())
    for day in REFERENCE_DATES:
        score_day(warehouse, day, live_config, live)

    back = _cli(warehouse_url, "backtest", str(good_path), "--horizon", "30")
    assert back.returncode == 0, back.stderr[-3000:]
    assert "30 days: The candidate is better" in back.stdout and "backtest took" in back.stdout
    out = tmp_path / "fitted.yml"
    fit = _cli(warehouse_url, "fit-scorecard", "--out", str(out), "--horizon", "30")
    assert fit.returncode == 0, fit.stderr[-3000:]
    assert "held-out ROC AUC" in fit.stdout and "logins_30d: higher_is_better" in fit.stdout
    assert out.read_text(encoding="utf-8").startswith("# A candidate scorecard fitted")
    migrate = _cli(warehouse_url, "migrate")
    assert migrate.returncode == 0 and "schema up to date" in migrate.stdout
    quarantine = _cli(warehouse_url, "quarantine")
    assert quarantine.returncode == 0 and "quarantine is empty" in quarantine.stdout
