"""Fit a readable scorecard from the team's own history (the Act of PDCA).

Method, in the words the written file repeats:

1. Rows: every account with KPIs on a calendar reference date that had not
   churned yet, labelled by churn within the horizon (the evaluation's cohort,
   read from KPIs so a team can fit before its first score exists).
2. Each candidate KPI becomes its percentile within the reference date
   (missing = the middle), the same scale the scorecard's ``percentile``
   method uses, so the fitted file scores exactly what was fitted.
3. Time-ordered split: the earlier two thirds of the reference dates fit,
   the later third tests. Nothing of the test dates is seen while fitting.
4. On the fitting dates: keep the KPIs whose own AUC is furthest from 0.5 (at
   most ``max_measures``), fit an L2-regularised logistic regression
   (scikit-learn) on them, drop those whose coefficient is under 5 % of the
   total; weights are the remaining coefficients' sizes, directions their signs.
5. On the test dates: the candidate's AUC with its interval, next to the live
   scorecard's on the same rows. No significant signal: nothing is written.

KPIs whose past values are not point in time, the contract calendar (churn can
only happen at a renewal: a score should not just restate the renewal date),
ARR and CSM sentiment (kept beside the score by design) are never candidates.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from sklearn.linear_model import LogisticRegression

from customer_health.config.evaluation import EvaluationFile
from customer_health.config.scorecards import ScorecardsFile
from customer_health.evaluation import statistics as st
from customer_health.evaluation.evaluate import (
    not_point_in_time,
    build_outcomes,
    data_span,
    frame,
    live_version,
    reference_dates,
)
from customer_health.contracts.kpi_catalog import NUMERIC_KPIS

log = logging.getLogger(__name__)

# Besides these, KPIs that are not point in time on the fitting dates (evaluate.not_point_in_time) are left out.
NEVER_CANDIDATES = {"days_to_renewal", "arr", "csm_sentiment_latest", "tenure_days"}
MIN_COEFFICIENT_SHARE = 0.05


@dataclass
class FittedMeasure:
    kpi: str
    direction: str
    weight: float
    train_auc: st.Estimate  # the measure's own AUC on the fitting dates, oriented as it scores (> 0.5 = useful)


@dataclass
class Fit:
    horizon_days: int
    train_dates: list[date]
    test_dates: list[date]
    measures: list[FittedMeasure]
    candidate_auc: st.Estimate
    live_auc: st.Estimate | None
    live_version: str | None
    written: bool
    message: str


def _percentiles(rows: pd.DataFrame, kpi: str) -> pd.Series:
    values = pd.to_numeric(rows[kpi], errors="coerce")
    pct = values.groupby(rows["reference_date"]).rank(method="average", pct=True)
    return pct.fillna(0.5)


def fit_scorecard(
    conn: psycopg.Connection,
    settings: EvaluationFile,
    *,
    horizon: int | None = None,
    max_measures: int = 6,
    live: ScorecardsFile | None = None,
) -> tuple[Fit, str | None]:
    """Fit a candidate; returns the fit and the candidate YAML (None when there is no signal)."""
    horizon = horizon or settings.horizons_days[0]
    first_day, last_day = data_span(conn)
    build_outcomes(conn, settings, last_day)
    refs = reference_dates(first_day, last_day, horizon, settings)
    try:
        version = live_version(conn)
    except LookupError:
        version = None
    rows = frame(conn, "evaluation/fit_cohort.sql",
                 {"reference_dates": refs, "horizon_days": horizon, "live_version": version or ""})
    if len(refs) < 2 or rows.empty:
        fit = Fit(horizon, refs, [], [], st.Estimate(None, None, None, 0, 0), None, version, False,
                  f"Too little history to fit at {horizon} days: {len(refs)} reference date(s); at least 2 are needed "
                  "(one to fit on, a later one to test on).")
        return fit, None
    rows = rows.rename(columns={"day": "reference_date"})
    rows["churned"] = rows["churned"].astype(bool)
    split = max(1, int(round(len(refs) * 2 / 3)))
    split = min(split, len(refs) - 1)
    train_dates, test_dates = refs[:split], refs[split:]
    train = rows[rows["reference_date"].isin(train_dates)]
    test = rows[rows["reference_date"].isin(test_dates)]
    leaky = not_point_in_time(conn, refs)
    candidates = [k for k in sorted(NUMERIC_KPIS) if k in rows.columns and k not in NEVER_CANDIDATES
                  and k not in leaky and pd.to_numeric(rows[k], errors="coerce").notna().any()]
    screened = []
    for kpi in candidates:
        # Oriented as the evaluation reports KPIs: above 0.5 = lower values churned more.
        est = st.auc_with_interval(-_percentiles(train, kpi).to_numpy(dtype=float), train["churned"].to_numpy(),
                                   train["reference_date"].to_numpy(), train["account_id"].to_numpy(),
                                   samples=settings.bootstrap_samples, seed=settings.seed)
        if est.value is not None and not est.includes_half:
            screened.append((abs(est.value - 0.5), kpi, est))
    screened = [s for s in sorted(screened, reverse=True)][:max_measures]
    measures: list[FittedMeasure] = []
    if screened and train["churned"].sum() >= settings.min_churned_rows:
        x_train = np.column_stack([_percentiles(train, kpi) for _, kpi, _ in screened])
        model = LogisticRegression(C=1.0, max_iter=1000).fit(x_train, train["churned"].to_numpy())
        coefficients = model.coef_[0]
        total = np.abs(coefficients).sum()
        for (_, kpi, est), beta in zip(screened, coefficients):
            if total and abs(beta) / total >= MIN_COEFFICIENT_SHARE:
                # A positive coefficient: a higher percentile means more churn, so lower is better.
                direction = "lower_is_better" if beta > 0 else "higher_is_better"
                as_measure = est if direction == "higher_is_better" else st.Estimate(
                    1 - est.value, 1 - est.high, 1 - est.low, est.rows, est.positives)
                measures.append(FittedMeasure(kpi, direction, round(float(abs(beta) / total) * 100, 1), as_measure))
    candidate_auc = _held_out(test, measures, settings)
    live_auc = None
    if version is not None and test["live_score"].notna().any():
        both = test.dropna(subset=["live_score"])
        live_auc = st.auc_with_interval(-both["live_score"].to_numpy(dtype=float), both["churned"].to_numpy(),
                                        both["reference_date"].to_numpy(), both["account_id"].to_numpy(),
                                        samples=settings.bootstrap_samples, seed=settings.seed)
    ok = bool(measures) and candidate_auc.value is not None and candidate_auc.low is not None and candidate_auc.low > 0.5
    fit = Fit(horizon, train_dates, test_dates, measures, candidate_auc, live_auc, version, ok, "")
    if not ok:
        fit.message = (f"No significant signal to fit at {horizon} days: the best candidate's held-out ROC AUC is "
                       f"{candidate_auc.fmt()} on {', '.join(map(str, test_dates))}; nothing written.")
        return fit, None
    live_text = f"; the live scorecards on the same rows: {live_auc.fmt()}" if live_auc and live_auc.value else ""
    fit.message = (f"Fitted {len(measures)} measures on {', '.join(map(str, train_dates))}; held-out ROC AUC on "
                   f"{', '.join(map(str, test_dates))}: {candidate_auc.fmt()}{live_text}.")
    return fit, candidate_yaml(fit, live)


def _held_out(test: pd.DataFrame, measures: list[FittedMeasure], settings: EvaluationFile) -> st.Estimate:
    if not measures or test.empty:
        return st.Estimate(None, None, None, len(test), int(test["churned"].sum()) if len(test) else 0)
    score = np.zeros(len(test))
    for m in measures:
        pct = _percentiles(test, m.kpi).to_numpy(dtype=float)
        score += m.weight * (pct if m.direction == "higher_is_better" else 1 - pct)
    return st.auc_with_interval(-score, test["churned"].to_numpy(), test["reference_date"].to_numpy(),
                                test["account_id"].to_numpy(), samples=settings.bootstrap_samples, seed=settings.seed)


def candidate_yaml(fit: Fit, live: ScorecardsFile | None) -> str:
    """The fitted scorecard in the scorecards.yml schema, commented for the person who reviews it."""
    bands = live.bands if live else None
    gate_lines = []
    if live and live.quality_gate:
        gate_lines = ["quality_gate:"]
        for stream, rule in live.quality_gate.items():
            parts = []
            if rule.max_age is not None:
                parts.append(f"max_age: {int(rule.max_age.total_seconds() // 86400)} days")
            if rule.min_volume_ratio is not None:
                parts.append(f"min_volume_ratio: {rule.min_volume_ratio}")
            gate_lines.append(f"  {stream}: {{{', '.join(parts)}}}")
    lines = [
        "# A candidate scorecard fitted from this warehouse's own history by",
        "# `python -m customer_health fit-scorecard`. Review it like any change, then try it:",
        "#   python -m customer_health backtest THIS_FILE      (both versions judged on the same rows)",
        "#   python -m customer_health validate-scorecards THIS_FILE   (who would change band today)",
        "#",
        f"# Method: churn within {fit.horizon_days} days; each KPI as its percentile among accounts that day;",
        "# an L2-regularised logistic regression fitted on the earlier reference dates",
        f"# ({', '.join(map(str, fit.train_dates))}) and tested on the later ones ({', '.join(map(str, fit.test_dates))}).",
        f"# Held-out ROC AUC: {fit.candidate_auc.fmt()}"
        + (f"; live scorecards on the same rows: {fit.live_auc.fmt()}." if fit.live_auc and fit.live_auc.value else "."),
        "",
        f"bands: {{red: {bands.red if bands else 40}, green: {bands.green if bands else 70}}}",
        f"min_coverage: {live.min_coverage if live else 0.6}",
        f"rollup: {{method: {live.rollup.method if live else 'arr_weighted'}}}",
        *gate_lines,
        "",
        "scorecards:",
        "  - name: fitted",
        f"    description: Fitted for churn within {fit.horizon_days} days (percentiles within the day)",
        "    groups:",
        "      fitted:",
        "        weight: 1",
        "        measures:",
    ]
    for m in fit.measures:
        lines.append(f"          # {m.kpi}: {'lower' if m.direction == 'higher_is_better' else 'higher'} values churned more; "
                     f"alone, as this measure, ROC AUC {m.train_auc.fmt()} on the fitting dates")
        lines.append(f"          {m.kpi}: {{kpi: {m.kpi}, direction: {m.direction}, method: percentile, weight: {m.weight}}}")
    text = "\n".join(lines) + "\n"
    import yaml  # noqa: PLC0415

    ScorecardsFile.model_validate(yaml.safe_load(text))  # never write a file the product would refuse
    return text


def write_candidate(text: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
