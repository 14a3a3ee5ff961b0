"""The statistics that judge a score, on cases a person can check by hand, and the traps they must avoid."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from customer_health.evaluation import statistics as st


def test_auc_on_a_hand_checkable_case():
    # Churners have risks 2 and 4, the others 1 and 3: of the 4 pairs, 3 rank the churner riskier.
    risk = np.array([1.0, 2.0, 3.0, 4.0])
    churned = np.array([False, True, False, True])
    assert st.stratified_auc(risk, churned, np.zeros(4)) == pytest.approx(0.75)
    # A tie counts half.
    assert st.stratified_auc(np.array([1.0, 1.0]), np.array([False, True]), np.zeros(2)) == pytest.approx(0.5)


def test_pairs_are_only_compared_within_a_reference_date():
    # Day 1: the churner is riskiest (AUC 1). Day 2: the churner is safest (AUC 0). One pair each way.
    risk = np.array([5.0, 1.0, 0.0, 9.0])
    churned = np.array([True, False, True, False])
    days = np.array([1, 1, 2, 2])
    assert st.stratified_auc(risk, churned, days) == pytest.approx(0.5)
    # Pooled, the day-2 non-churner's high risk would dominate: a different answer.
    assert roc_auc_score(churned, risk) != pytest.approx(0.5)


def test_vectorised_bootstrap_auc_equals_scikit_learn_with_the_same_weights():
    rng = np.random.default_rng(1)
    risk = rng.integers(0, 20, 300).astype(float)  # many ties
    churned = rng.random(300) < 0.2
    weights = rng.integers(0, 4, (5, 300)).astype(float)
    won, pairs = st._weighted_auc_parts(risk, churned, weights)
    for row, w in enumerate(weights):
        assert won[row] / pairs[row] == pytest.approx(roc_auc_score(churned, risk, sample_weight=w))


def _cohort(n_accounts: int, days: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for day in range(days):
        for account in range(n_accounts):
            rows.append({"account_id": f"A{account}", "reference_date": day})
    return pd.DataFrame(rows), rng


def test_shuffled_labels_give_no_significant_signal():
    cohort, rng = _cohort(800, 3, seed=2)
    risk = rng.normal(size=len(cohort))
    churned = rng.permutation(rng.random(len(cohort)) < 0.1)
    estimate = st.auc_with_interval(risk, churned, cohort["reference_date"].to_numpy(),
                                    cohort["account_id"].to_numpy(), samples=300, seed=7)
    assert estimate.includes_half, estimate


def test_a_planted_signal_is_found_with_an_interval_above_one_half():
    cohort, rng = _cohort(800, 3, seed=3)
    risk = rng.normal(size=len(cohort))
    churned = rng.random(len(cohort)) < 1 / (1 + np.exp(-(risk * 1.5 - 2.5)))
    estimate = st.auc_with_interval(risk, churned, cohort["reference_date"].to_numpy(),
                                    cohort["account_id"].to_numpy(), samples=300, seed=7)
    assert estimate.low > 0.6, estimate
    assert estimate.low < estimate.value < estimate.high


def test_calendar_drift_cannot_fake_signal():
    """Scores rise with calendar time and early dates have more churn, but within a date the label is
    independent of the score: a pooled AUC shows 'signal', the within-date AUC must not."""
    cohort, rng = _cohort(600, 6, seed=4)
    day = cohort["reference_date"].to_numpy()
    score = day * 10 + rng.normal(size=len(cohort))
    churned = rng.random(len(cohort)) < np.where(day < 3, 0.2, 0.02)
    pooled = roc_auc_score(churned, -score)
    assert pooled > 0.65  # the trap
    estimate = st.auc_with_interval(-score, churned, day, cohort["account_id"].to_numpy(), samples=300, seed=7)
    assert estimate.includes_half, estimate


def test_the_bootstrap_is_deterministic_for_a_seed():
    cohort, rng = _cohort(200, 2, seed=5)
    risk = rng.normal(size=len(cohort))
    churned = rng.random(len(cohort)) < 0.2
    args = (risk, churned, cohort["reference_date"].to_numpy(), cohort["account_id"].to_numpy())
    assert st.auc_with_interval(*args, samples=100, seed=1) == st.auc_with_interval(*args, samples=100, seed=1)


def test_top_decile_lift_is_tie_neutral():
    # Everyone ties: the top decile holds a tenth of each row, so its churn rate is the base rate.
    frame = pd.DataFrame({"reference_date": [1] * 20, "risk": [0.0] * 20, "churned": [True] * 4 + [False] * 16})
    assert st.top_decile_lift(frame) == pytest.approx(1.0)
    assert st.top_decile_lift(frame.iloc[::-1]) == pytest.approx(1.0)
    # The riskiest two of twenty both churned: rate 1.0 against a base of 4/20 = lift 5.
    frame["risk"] = [10.0, 9.0] + [0.0] * 18
    assert st.top_decile_lift(frame) == pytest.approx(5.0)


def test_rates_carry_wilson_intervals_and_deciles_share_ties():
    rate, low, high = st.wilson(5, 50)
    assert rate == pytest.approx(0.1) and low == pytest.approx(0.0435, abs=1e-3) and high == pytest.approx(0.2136, abs=1e-3)
    assert st.wilson(0, 0) == (None, None, None)
    frame = pd.DataFrame({"reference_date": [1] * 10, "score": [5.0] * 5 + list(range(5))})
    deciles = st.deciles_within(frame, "score")
    assert deciles[:5].nunique() == 1  # tied scores, one decile, whatever the row order
    assert st.steadily_falling([0.3, 0.25, 0.2, 0.1, 0.05])[0]
    assert not st.steadily_falling([0.1, 0.3, 0.1, 0.3, 0.1])[0]


def test_kpis_screened_together_keep_noise_out_and_the_real_signal_in():
    """25 KPIs of pure noise and one real one: at 5 % each, some noise KPI passes by chance; after the
    Benjamini-Hochberg adjustment none does, and the real one still does."""
    from customer_health.contracts.kpi_catalog import NUMERIC_KPIS
    from customer_health.evaluation.evaluate import _kpi_metrics, signal_of

    names = sorted(NUMERIC_KPIS)[:26]
    real, noise = names[0], names[1:]
    rng = np.random.default_rng(3)
    rows = 1200
    churned = rng.random(rows) < 0.08
    frame = pd.DataFrame({"account_id": np.arange(rows) % 400, "reference_date": np.arange(rows) // 400,
                          "churned": churned})
    frame[real] = rng.normal(0, 1, rows) - 0.9 * churned  # churners lower: "lower is riskier"
    for name in noise:
        frame[name] = rng.normal(0, 1, rows)
    metrics = {m.subject: m for m in _kpi_metrics(frame, samples=300, seed=1, min_churned=10)}
    unadjusted = [n for n in noise if signal_of(metrics[n].estimate, 10).endswith("is riskier")]
    assert unadjusted, "precondition: without the adjustment some noise KPI looks like a signal"
    assert [n for n in noise if metrics[n].signal.endswith("is riskier")] == []
    assert all("tested together" in metrics[n].signal for n in unadjusted)
    assert metrics[real].signal == "lower is riskier"
    assert metrics[real].estimate.p_value < 1e-6
