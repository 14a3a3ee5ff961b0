"""The statistics that judge a score against churn: AUCs with bootstrap intervals, lift, rates.

Two rules shape everything here:

- **Compare accounts only within the same reference date.** Scores drift with
  the calendar (a product matures, onboarding cohorts arrive) and churn rates
  vary by month; pooling all days lets that drift fake signal. The AUC is the
  probability that a churner looked riskier than a non-churner *on the same
  day*, pooled over days by their number of such pairs.
- **No number without its interval.** Rows of one account on several
  reference dates are not independent, so intervals come from a bootstrap
  over accounts (an account is drawn with all its rows), seeded so a rerun
  gives the same figures.

Point estimates use scikit-learn (``roc_auc_score``, ``average_precision_score``)
and scipy (Wilson intervals, Spearman). The bootstrap needs thousands of AUCs
per subject, which per-call overhead would make minutes; it uses the same
tie-aware Mann-Whitney count vectorised over all resamples at once, and the
tests check it equals scikit-learn's AUC.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None
    rows: int
    positives: int
    p_value: float | None = None
    """Two-sided p of "AUC = 0.5" from the bootstrap's standard error (a Wald test), for adjusting many tests."""

    @property
    def includes_half(self) -> bool:
        return self.low is None or self.high is None or self.low <= 0.5 <= self.high

    def fmt(self, digits: int = 2) -> str:
        if self.value is None:
            return "n/a"
        if self.low is None:
            return f"{self.value:.{digits}f}"
        return f"{self.value:.{digits}f} (95 % CI {self.low:.{digits}f}-{self.high:.{digits}f})"


def stratified_auc(risk: np.ndarray, churned: np.ndarray, strata: np.ndarray) -> float | None:
    """P(a churner is riskier than a non-churner of the same stratum), ties counted half (scikit-learn)."""
    num = pairs = 0.0
    for stratum in np.unique(strata):
        mask = strata == stratum
        y = churned[mask]
        positives = int(y.sum())
        negatives = int(mask.sum()) - positives
        if positives == 0 or negatives == 0:
            continue
        n_pairs = positives * negatives
        num += roc_auc_score(y, risk[mask]) * n_pairs
        pairs += n_pairs
    return num / pairs if pairs else None


def _weighted_auc_parts(risk: np.ndarray, churned: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``weights`` (resamples x rows): the weighted count of (churner riskier than
    non-churner) pairs, ties half, and the weighted number of pairs. One stratum."""
    order = np.argsort(risk, kind="stable")
    sorted_risk = risk[order]
    starts = np.flatnonzero(np.r_[True, sorted_risk[1:] != sorted_risk[:-1]])
    w = weights[:, order]
    y = churned[order].astype(bool)
    pos = np.add.reduceat(np.where(y, w, 0.0), starts, axis=1)
    neg = np.add.reduceat(np.where(y, 0.0, w), starts, axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    won = (pos * (neg_below + 0.5 * neg)).sum(axis=1)
    return won, pos.sum(axis=1) * neg.sum(axis=1)


def bootstrap_weights(accounts: np.ndarray, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-account draw counts of a bootstrap over accounts: (counts resamples x accounts, row -> account index)."""
    names, index = np.unique(accounts, return_inverse=True)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(names), np.full(len(names), 1.0 / len(names)), size=samples).astype(np.float64)
    return counts, index


def auc_with_interval(
    risk: np.ndarray, churned: np.ndarray, strata: np.ndarray, accounts: np.ndarray, *, samples: int, seed: int
) -> Estimate:
    """Stratified AUC with a 95 % interval from a bootstrap over accounts. Rows without a value are dropped."""
    keep = ~np.isnan(risk)
    risk, churned, strata, accounts = risk[keep], churned[keep].astype(bool), strata[keep], accounts[keep]
    positives = int(churned.sum())
    value = stratified_auc(risk, churned, strata) if len(risk) else None
    if value is None or samples <= 0:
        return Estimate(value, None, None, len(risk), positives)
    counts, account_index = bootstrap_weights(accounts, samples, seed)
    won = np.zeros(samples)
    pairs = np.zeros(samples)
    for stratum in np.unique(strata):
        mask = strata == stratum
        w, p = _weighted_auc_parts(risk[mask], churned[mask], counts[:, account_index[mask]])
        won += w
        pairs += p
    valid = pairs > 0
    aucs = won[valid] / pairs[valid]
    low, high = np.quantile(aucs, [(1 - CONFIDENCE) / 2, 1 - (1 - CONFIDENCE) / 2])
    spread = float(np.std(aucs, ddof=1)) if len(aucs) > 1 else 0.0
    # The bootstrap's own tail share cannot resolve p below 1/samples, too coarse for 25 KPIs at once:
    # the Wald test on its standard error can.
    p_value = float(2 * stats.norm.sf(abs(value - 0.5) / spread)) if spread > 0 else (1.0 if value == 0.5 else 0.0)
    return Estimate(value, float(low), float(high), len(risk), positives, p_value)


def false_discovery_adjusted(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (scipy): screening 25 KPIs at 5 % each would call about one
    noise KPI a signal on data with none; adjusted values below 0.05 keep the false discoveries at 5 %."""
    if not p_values:
        return []
    return [float(q) for q in stats.false_discovery_control(np.asarray(p_values, dtype=float), method="bh")]


def resampled(frame: pd.DataFrame, samples: int, seed: int):
    """Yield ``samples`` bootstrap copies of ``frame`` drawn by account (column ``account_id``)."""
    counts, index = bootstrap_weights(frame["account_id"].to_numpy(), samples, seed)
    for row_counts in counts:
        repeat = row_counts[index].astype(int)
        yield frame.loc[frame.index.repeat(repeat)]


def interval(values: list[float]) -> tuple[float | None, float | None]:
    clean = [v for v in values if v is not None and not np.isnan(v)]
    if len(clean) < 10:
        return None, None
    low, high = np.quantile(clean, [(1 - CONFIDENCE) / 2, 1 - (1 - CONFIDENCE) / 2])
    return float(low), float(high)


def pr_auc(risk: np.ndarray, churned: np.ndarray) -> float | None:
    """Average precision (area under the precision-recall curve); its baseline is the churn rate."""
    keep = ~np.isnan(risk)
    if churned[keep].sum() == 0 or churned[keep].all():
        return None
    return float(average_precision_score(churned[keep], risk[keep]))


def top_decile_lift(frame: pd.DataFrame, risk_column: str = "risk") -> float | None:
    """Churn rate among the riskiest 10 % of each reference date over the overall rate.

    Tie-neutral: rows tied at the cut-off count with the fraction of them that fits in the decile, so
    the result never depends on the order rows arrive in."""
    expected = taken = 0.0
    rows = frame.dropna(subset=[risk_column])
    if rows.empty or rows["churned"].sum() == 0:
        return None
    for _, day in rows.groupby("reference_date"):
        size = 0.1 * len(day)
        risk = day[risk_column].to_numpy()
        churned = day["churned"].to_numpy().astype(float)
        cut = np.sort(risk)[::-1][max(int(np.ceil(size)) - 1, 0)]
        above = risk > cut
        at = risk == cut
        fraction = (size - above.sum()) / at.sum()
        expected += churned[above].sum() + fraction * churned[at].sum()
        taken += size
    base = rows["churned"].mean()
    return float((expected / taken) / base) if taken and base else None


def wilson(successes: int, trials: int) -> tuple[float | None, float | None, float | None]:
    """A rate with its 95 % Wilson interval (scipy); None for an empty bin."""
    if trials == 0:
        return None, None, None
    ci = stats.binomtest(successes, trials).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return successes / trials, float(ci.low), float(ci.high)


def deciles_within(frame: pd.DataFrame, column: str) -> pd.Series:
    """Score decile 1 (lowest) to 10 within each reference date; ties share a decile (average rank)."""
    pct = frame.groupby("reference_date")[column].rank(method="average", pct=True)
    return np.ceil(pct * 10).clip(1, 10)


def steadily_falling(rates: list[float]) -> tuple[bool, float | None]:
    """Does churn fall as the score decile rises? Spearman's rho (scipy) of decile against rate."""
    clean = [(i, r) for i, r in enumerate(rates) if r is not None]
    if len(clean) < 4:
        return False, None
    rho, p_value = stats.spearmanr([i for i, _ in clean], [r for _, r in clean])
    if np.isnan(rho):
        return False, None
    return bool(rho <= -0.7 and p_value < 0.05), float(rho)


def paired_auc_difference(
    risk_a: np.ndarray, risk_b: np.ndarray, churned: np.ndarray, strata: np.ndarray, accounts: np.ndarray,
    *, samples: int, seed: int,
) -> tuple[float | None, float | None, float | None, float | None, float | None]:
    """AUC(a) - AUC(b) on identical rows, with a paired 95 % interval: each bootstrap draw of accounts
    scores both versions, so what the two share (the accounts, the dates) cancels out.
    Returns (difference, low, high, auc_a, auc_b)."""
    churned = churned.astype(bool)
    auc_a = stratified_auc(risk_a, churned, strata)
    auc_b = stratified_auc(risk_b, churned, strata)
    if auc_a is None or auc_b is None:
        return None, None, None, auc_a, auc_b
    difference = auc_a - auc_b
    if samples <= 0:
        return difference, None, None, auc_a, auc_b
    counts, account_index = bootstrap_weights(accounts, samples, seed)
    won_a, won_b, pairs = np.zeros(samples), np.zeros(samples), np.zeros(samples)
    for stratum in np.unique(strata):
        mask = strata == stratum
        weights = counts[:, account_index[mask]]
        wa, p = _weighted_auc_parts(risk_a[mask], churned[mask], weights)
        wb, _ = _weighted_auc_parts(risk_b[mask], churned[mask], weights)
        won_a += wa
        won_b += wb
        pairs += p
    valid = pairs > 0
    draws = (won_a[valid] - won_b[valid]) / pairs[valid]
    low, high = np.quantile(draws, [(1 - CONFIDENCE) / 2, 1 - (1 - CONFIDENCE) / 2])
    return difference, float(low), float(high), auc_a, auc_b
