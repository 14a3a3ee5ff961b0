"""`fit-scorecard --segment S`: fit one segment of the shipped scorecards.yml, keep every other scorecard as live.

Planted: mid-market accounts (the shipped `mid_market` scorecard: 100+ employees, past onboarding) churn
when their logins are low; small accounts (`smb`) churn independently of everything. Fitting `mid_market`
must find logins, compare itself with the live score on the same held-out rows (paired interval), and
write a file whose other scorecards are the live ones; fitting `smb` must say "no significant signal"
and write nothing.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

import numpy as np
import yaml

from customer_health.config.evaluation import EvaluationFile
from customer_health.config.scorecards import ScorecardsFile, load_scorecards
from demo.localenv import REPO_ROOT

FIRST_DAY, LAST_DAY = date(2025, 12, 31), date(2026, 6, 30)
REFERENCE_DATES = [date(2026, 1, 30), date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 30)]
SETTINGS = EvaluationFile(horizons_days=[30], bootstrap_samples=200)
VERSION = "v_segments"


def _plant(conn, accounts: int = 900, seed: int = 21) -> None:
    rng = np.random.default_rng(seed)
    conn.execute("INSERT INTO meta.scorecard_versions (config_version, source_yaml, rollup_method) "
                 "VALUES (%s, '', 'mean')", [VERSION])
    conn.execute("""INSERT INTO intermediate.account_day_activity
                    (day, account_id, events, logins, session_ms, core_actions, active_users, feature_bits)
                    VALUES (%s, 'M0', 1, 1, 0, 0, 1, 0)""", [FIRST_DAY])
    churned: dict[str, date] = {}
    score_rows, kpi_rows = [], []
    for day in REFERENCE_DATES:
        for i in range(accounts):
            mid = i % 2 == 0
            account = f"{'M' if mid else 'S'}{i}"
            if account in churned and churned[account] <= day:
                continue
            logins = float(rng.uniform(0, 100))
            score = float(rng.uniform(0, 100))  # the live score is noise in both segments
            p = 1 / (1 + np.exp((logins - 25) / 8)) if mid else 0.08
            if account not in churned and rng.random() < p:
                churned[account] = day + timedelta(days=int(rng.integers(5, 28)))
            band = "red" if score < 40 else ("green" if score >= 70 else "yellow")
            score_rows.append((account, day, VERSION, "mid_market" if mid else "smb", round(score, 2), band, 1.0))
            kpi_rows.append((account, day, 1000, 90, 300 if mid else 20, 400, logins, float(rng.poisson(20)),
                             float(rng.normal())))
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO staging.crm_contracts (contract_id, account_id, start_date, end_date, arr, status, _source, _batch_id)
               VALUES (%s, %s, %s, %s, 1000, 'active', 'test', 1)""",
            [(f"k{a}", a, churned[a] - timedelta(days=365) if a in churned else date(2025, 1, 1),
              churned.get(a, date(2027, 1, 1))) for a in {r[0] for r in kpi_rows}])
        cur.executemany("""INSERT INTO marts.health_scores (account_id, day, config_version, scorecard, score, band, coverage)
                           VALUES (%s, %s, %s, %s, %s, %s, %s)""", score_rows)
        cur.executemany("""INSERT INTO marts.account_daily_kpis
                           (account_id, day, arr, days_to_renewal, employees, tenure_days, logins_30d, core_actions_30d,
                            logins_change_30d_pct)
                           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""", kpi_rows)
        cur.execute("INSERT INTO marts.account_daily_kpis (account_id, day) VALUES ('M0', %s)", [LAST_DAY])


def _cli(warehouse_url, *args):
    return subprocess.run(
        [sys.executable, "-m", "customer_health", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "WAREHOUSE_URL": warehouse_url, "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
             "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}"},
    )


def test_fitting_one_segment_changes_only_its_scorecard(warehouse):
    from customer_health.evaluation.fit import fit_scorecard

    _plant(warehouse)
    live, _ = load_scorecards()
    fit, text = fit_scorecard(warehouse, SETTINGS, horizon=30, live=live, segment="mid_market")
    assert fit.written and text is not None, fit.message
    assert "in segment mid_market" in fit.message
    top = max(fit.measures, key=lambda m: m.weight)
    assert (top.kpi, top.direction) == ("logins_30d", "higher_is_better"), fit.measures
    # Held out, next to live on the same rows, with the paired interval of the difference.
    assert fit.candidate_auc.low > 0.6 and fit.live_auc is not None and fit.live_auc.includes_half
    difference, low, high, rows, churned = fit.paired
    assert low > 0 and low < difference < high, fit.paired
    assert rows == fit.candidate_auc.rows and churned == fit.candidate_auc.positives
    assert "paired difference candidate - live" in fit.message and "the candidate is better" in fit.message
    # Exactly the mid-market accounts still customers on the test dates were tested.
    (mid_rows,) = warehouse.execute(
        """SELECT count(*) FROM marts.account_daily_kpis WHERE employees = 300 AND day = ANY (%s)
           AND NOT marts.churned_by(account_id, day)""", [fit.test_dates]).fetchone()
    assert fit.candidate_auc.rows == mid_rows

    candidate = ScorecardsFile.model_validate(yaml.safe_load(text))
    assert [c.name for c in candidate.scorecards] == [c.name for c in live.scorecards]
    for mine, theirs in zip(candidate.scorecards, live.scorecards):
        if theirs.name == "mid_market":
            assert mine.segment == theirs.segment and mine.min_coverage == theirs.min_coverage
            assert mine.groups != theirs.groups and set(mine.groups) == {"fitted"}
        else:
            assert mine == theirs, theirs.name  # unchanged, measure by measure
    assert (candidate.bands, candidate.min_coverage, candidate.rollup, candidate.quality_gate) == (
        live.bands, live.min_coverage, live.rollup, live.quality_gate)
    assert "# Only scorecard mid_market is fitted" in text and "percentile among accounts of scorecard mid_market" in text


def test_a_segment_without_signal_writes_nothing_and_an_unknown_segment_names_the_allowed(warehouse, warehouse_url,
                                                                                         tmp_path):
    _plant(warehouse)
    out = tmp_path / "smb.yml"
    quiet = _cli(warehouse_url, "fit-scorecard", "--out", str(out), "--horizon", "30", "--segment", "smb")
    assert quiet.returncode == 1, quiet.stderr[-3000:]
    assert "No significant signal to fit at 30 days in segment smb" in quiet.stdout
    assert "nothing written" in quiet.stdout and not out.exists()

    fitted = tmp_path / "mid.yml"
    good = _cli(warehouse_url, "fit-scorecard", "--out", str(fitted), "--horizon", "30", "--segment", "mid_market")
    assert good.returncode == 0, good.stderr[-3000:]
    assert "held-out ROC AUC" in good.stdout and "paired difference candidate - live" in good.stdout
    assert "logins_30d: higher_is_better" in good.stdout and fitted.exists()

    wrong = _cli(warehouse_url, "fit-scorecard", "--out", str(out), "--segment", "midmarket")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert "--segment 'midmarket': no such scorecard" in wrong.stderr and "mid_market" in wrong.stderr
    assert not out.exists()
