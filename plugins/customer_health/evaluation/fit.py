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
   most ``max_measures``; the interval must exclude 0.5 and the AUC be at least
   0.02 from it), fit an L2-regularised logistic regression
   (scikit-learn) on them, drop those whose coefficient is under 5 % of the
   total; weights are the remaining coefficients' sizes, directions their signs.
5. On the test dates: the candidate's AUC with its interval, next to the live
   scorecard's on the same rows, and their paired difference (a bootstrap over
   accounts drawing both scores together). No significant signal: nothing is written.

With ``segment`` (a scorecard name of the live file) the rows are only the
account-days that scorecard would score (the scoring's own first-match rule,
``evaluation/fit_segments.sql``), percentiles are taken among them (as the
scorecard's ``percentile`` method ranks within its scorecard), and the written
file is the live one with only that scorecard's groups replaced: its segment,
bands and coverage, and every other scorecard, stay as they are.

KPIs whose past values are not point in time, the contract calendar (churn can
only happen at a renewal: a score should not just restate the renewal date),
ARR and CSM sentiment (kept beside the score by design) are never candidates.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import yaml
from sklearn.linear_model import LogisticRegression

from customer_health.config import ConfigError
from customer_health.config.evaluation import EvaluationFile
from customer_health.config.scorecards import Scorecard, ScorecardsFile, scorecards_path
from customer_health.evaluation import statistics as st
from customer_health.evaluation.outcomes import build_outcomes
from customer_health.evaluation.evaluate import (
    NEGLIGIBLE_AUC_DISTANCE,
    not_point_in_time,
    data_span,
    frame,
    live_version,
    reference_dates,
)
from customer_health.config.kpi_catalog import numeric_kpis

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
    segment: str | None = None
    # Candidate minus live on the held-out rows both scored: (difference, low, high, rows, churned rows).
    paired: tuple[float | None, float | None, float | None, int, int] | None = None

    def paired_text(self) -> str:
        if not self.paired or self.paired[0] is None:
            return ""
        difference, low, high, rows, churned = self.paired
        ci = f" (95 % CI {low:+.2f} to {high:+.2f})" if low is not None else ""
        if low is None or low <= 0 <= high:
            word = "no significant difference"
        else:
            word = "the candidate is better" if low > 0 else "the candidate is worse"
        return f"paired difference candidate - live {difference:+.2f}{ci} on the same {rows:,} held-out account-days, {churned} churned: {word}"


def _percentiles(rows: pd.DataFrame, kpi: str) -> pd.Series:
    values = pd.to_numeric(rows[kpi], errors="coerce")
    pct = values.groupby(rows["reference_date"]).rank(method="average", pct=True)
    return pct.fillna(0.5)


def segment_rows(conn: psycopg.Connection, live: ScorecardsFile, refs: list[date]) -> pd.DataFrame:
    """(account_id, day, scorecard) of every account-day on ``refs`` under the file's first-match rule."""
    cards = [{"scorecard": card.name, "position": i} for i, card in enumerate(live.scorecards)]
    conditions = [{"scorecard": card.name, "field": field, "op": op,
                   "vals": [str(v) for v in (value if isinstance(value, list) else [value])]}
                  for card in live.scorecards for field, condition in card.segment.items()
                  for op, value in condition.tests()]
    return frame(conn, "evaluation/fit_segments.sql",
                 {"reference_dates": refs, "scorecards": json.dumps(cards), "conditions": json.dumps(conditions)})


def fit_scorecard(
    conn: psycopg.Connection,
    settings: EvaluationFile,
    *,
    horizon: int | None = None,
    max_measures: int = 6,
    live: ScorecardsFile | None = None,
    segment: str | None = None,
) -> tuple[Fit, str | None]:
    """Fit a candidate; returns the fit and the candidate YAML (None when there is no signal).
    With ``segment`` (a scorecard of ``live``), fit only that scorecard's accounts and keep the rest."""
    horizon = horizon or settings.horizons_days[0]
    if segment is not None:
        names = [card.name for card in (live.scorecards if live else [])]
        if segment not in names:
            raise ConfigError(scorecards_path(), [f"fit-scorecard --segment {segment!r}: no such scorecard; the "
                                                  f"segments are the scorecards: {', '.join(names) or 'none'}"])
    first_day, last_day = data_span(conn)
    build_outcomes(conn, settings, last_day)
    refs = reference_dates(first_day, last_day, horizon, settings)
    try:
        version = live_version(conn)
    except LookupError:
        version = None
    rows = frame(conn, "evaluation/fit_cohort.sql",
                 {"reference_dates": refs, "horizon_days": horizon, "live_version": version or ""})
    if segment is not None and not rows.empty:
        assigned = segment_rows(conn, live, refs)
        mine = assigned[assigned["scorecard"] == segment][["account_id", "day"]]
        rows = rows.merge(mine, on=["account_id", "day"])
        refs = sorted(set(rows["day"]))
    where = f" in segment {segment}" if segment else ""
    if len(refs) < 2 or rows.empty:
        fit = Fit(horizon, refs, [], [], st.Estimate(None, None, None, 0, 0), None, version, False,
                  f"Too little history to fit at {horizon} days{where}: {len(refs)} reference date(s) with accounts; "
                  "at least 2 are needed (one to fit on, a later one to test on); nothing written.", segment)
        return fit, None
    rows = rows.rename(columns={"day": "reference_date"})
    rows["churned"] = rows["churned"].astype(bool)
    split = max(1, int(round(len(refs) * 2 / 3)))
    split = min(split, len(refs) - 1)
    train_dates, test_dates = refs[:split], refs[split:]
    train = rows[rows["reference_date"].isin(train_dates)]
    test = rows[rows["reference_date"].isin(test_dates)]
    leaky = not_point_in_time(conn, refs)
    if int(train["churned"].sum()) < settings.min_churned_rows:
        fit = Fit(horizon, train_dates, test_dates, [], st.Estimate(None, None, None, len(test), 0), None, version,
                  False, f"Too few churned to fit at {horizon} days{where}: {int(train['churned'].sum())} churned rows "
                  f"among {len(train):,} on the fitting dates ({', '.join(map(str, train_dates))}); at least "
                  f"{settings.min_churned_rows} are needed (evaluation.yml min_churned_rows); nothing written.", segment)
        return fit, None
    candidates = [k for k in sorted(numeric_kpis()) if k in rows.columns and k not in NEVER_CANDIDATES
                  and k not in leaky and pd.to_numeric(rows[k], errors="coerce").notna().any()]
    screened = []
    for kpi in candidates:
        # Oriented as the evaluation reports KPIs: above 0.5 = lower values churned more.
        est = st.auc_with_interval(-_percentiles(train, kpi).to_numpy(dtype=float), train["churned"].to_numpy(),
                                   train["reference_date"].to_numpy(), train["account_id"].to_numpy(),
                                   samples=settings.bootstrap_samples, seed=settings.seed)
        if est.value is not None and not est.includes_half and abs(est.value - 0.5) >= NEGLIGIBLE_AUC_DISTANCE:
            screened.append((abs(est.value - 0.5), kpi, est))
    screened = [s for s in sorted(screened, reverse=True)][:max_measures]
    measures: list[FittedMeasure] = []
    if screened:
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
    candidate_score = _candidate_score(test, measures)
    candidate_auc = _held_out(test, candidate_score, settings)
    live_auc = paired = None
    if version is not None and test["live_score"].notna().any():
        has_live = test["live_score"].notna().to_numpy()
        both = test[has_live]
        live_auc = st.auc_with_interval(-both["live_score"].to_numpy(dtype=float), both["churned"].to_numpy(),
                                        both["reference_date"].to_numpy(), both["account_id"].to_numpy(),
                                        samples=settings.bootstrap_samples, seed=settings.seed)
        if candidate_score is not None:
            difference, low, high, _, _ = st.paired_auc_difference(
                -candidate_score[has_live], -both["live_score"].to_numpy(dtype=float), both["churned"].to_numpy(),
                both["reference_date"].to_numpy(), both["account_id"].to_numpy(),
                samples=settings.bootstrap_samples, seed=settings.seed)
            paired = (difference, low, high, len(both), int(both["churned"].sum()))
    ok = bool(measures) and candidate_auc.value is not None and candidate_auc.low is not None and candidate_auc.low > 0.5
    fit = Fit(horizon, train_dates, test_dates, measures, candidate_auc, live_auc, version, ok, "", segment, paired)
    live_text = f"; the live scorecards on the same rows: {live_auc.fmt()}" if live_auc and live_auc.value else ""
    paired_text = f"; {fit.paired_text()}" if fit.paired_text() else ""
    if not ok:
        why = ("no KPI separated churners on the fitting dates, so no measure was kept"
               if not measures else f"the candidate's held-out ROC AUC is {candidate_auc.fmt()}, and its interval "
               "includes 0.5 (chance)")
        fit.message = (f"No significant signal to fit at {horizon} days{where}: {why} (tested on "
                       f"{', '.join(map(str, test_dates))}{live_text}); nothing written.")
        return fit, None
    fit.message = (f"Fitted {len(measures)} measures{where} on {', '.join(map(str, train_dates))}; held-out ROC AUC on "
                   f"{', '.join(map(str, test_dates))}: {candidate_auc.fmt()}{live_text}{paired_text}.")
    return fit, candidate_yaml(fit, live)


def _candidate_score(test: pd.DataFrame, measures: list[FittedMeasure]) -> np.ndarray | None:
    """The fitted scorecard's score (up to scale) on the test rows, percentiles taken among them."""
    if not measures or test.empty:
        return None
    score = np.zeros(len(test))
    for m in measures:
        pct = _percentiles(test, m.kpi).to_numpy(dtype=float)
        score += m.weight * (pct if m.direction == "higher_is_better" else 1 - pct)
    return score


def _held_out(test: pd.DataFrame, score: np.ndarray | None, settings: EvaluationFile) -> st.Estimate:
    if score is None:
        return st.Estimate(None, None, None, len(test), int(test["churned"].sum()) if len(test) else 0)
    return st.auc_with_interval(-score, test["churned"].to_numpy(), test["reference_date"].to_numpy(),
                                test["account_id"].to_numpy(), samples=settings.bootstrap_samples, seed=settings.seed)


def _whole_numbers(value):
    """1000.0 -> 1000, so a kept scorecard reads as it was written (the parsed model is the same)."""
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _scorecard_yaml(card: Scorecard) -> list[str]:
    """A live scorecard as it validates again (anchors resolved), for a candidate that keeps it."""
    data = card.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    data["groups"] = card.model_dump(mode="json", by_alias=True, exclude_none=True)["groups"]
    for group in data["groups"].values():
        for measure in group["measures"].values():
            if measure.get("missing") == "skip":
                del measure["missing"]
            if not measure.get("description"):
                measure.pop("description", None)
    text = yaml.safe_dump([_whole_numbers(data)], sort_keys=False, default_flow_style=None, allow_unicode=True,
                          width=120)
    return ["  " + line for line in text.splitlines()]


def candidate_yaml(fit: Fit, live: ScorecardsFile | None) -> str:
    """The fitted scorecard in the scorecards.yml schema, commented for the person who reviews it.
    For a segment fit: the live file with only that scorecard's measures replaced."""
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
    percentile_among = (f"accounts of scorecard {fit.segment} that day (its first-match segment rule)"
                        if fit.segment else "accounts that day")
    paired = fit.paired_text()
    lines = [
        "# A candidate scorecard fitted from this warehouse's own history by",
        "# `python -m customer_health fit-scorecard`. Review it like any change, then try it:",
        "#   python -m customer_health backtest THIS_FILE      (both versions judged on the same rows)",
        "#   python -m customer_health validate-scorecards THIS_FILE   (who would change band today)",
        "#",
        *([f"# Only scorecard {fit.segment} is fitted (--segment {fit.segment}); every other scorecard, the bands",
           "# and the quality gate are the live scorecards.yml's, unchanged.", "#"] if fit.segment else []),
        f"# Method: churn within {fit.horizon_days} days; each KPI as its percentile among {percentile_among};",
        "# an L2-regularised logistic regression fitted on the earlier reference dates",
        f"# ({', '.join(map(str, fit.train_dates))}) and tested on the later ones ({', '.join(map(str, fit.test_dates))}).",
        f"# Held-out ROC AUC: {fit.candidate_auc.fmt()}"
        + (f"; live scorecards on the same rows: {fit.live_auc.fmt()}." if fit.live_auc and fit.live_auc.value else "."),
        *([f"# Held out, {paired}."] if paired else []),
        "",
        f"bands: {{red: {_whole_numbers(bands.red) if bands else 40}, green: {_whole_numbers(bands.green) if bands else 70}}}",
        f"min_coverage: {live.min_coverage if live else 0.6}",
        f"rollup: {{method: {live.rollup.method if live else 'arr_weighted'}}}",
        *gate_lines,
        "",
        "scorecards:",
    ]
    fitted_cards = [c for c in live.scorecards if c.name == fit.segment] if fit.segment and live else []
    cards = live.scorecards if fitted_cards else [None]
    for card in cards:
        if card is not None and card.name != fit.segment:
            lines.extend(_scorecard_yaml(card))
            continue
        lines.extend(_fitted_scorecard_lines(fit, card))
    text = "\n".join(lines) + "\n"
    ScorecardsFile.model_validate(yaml.safe_load(text))  # never write a file the product would refuse
    return text


def _fitted_scorecard_lines(fit: Fit, card: Scorecard | None) -> list[str]:
    within = "among this scorecard's accounts" if card is not None else "within the day"
    lines = [f"  - name: {card.name if card else 'fitted'}",
             f"    description: {json.dumps(f'Fitted for churn within {fit.horizon_days} days (percentiles {within})')}"]
    if card is not None:
        kept = _whole_numbers(card.model_dump(mode="json", by_alias=True, exclude_none=True,
                                              include={"segment", "bands", "min_coverage"}))
        for key, value in kept.items():
            if value or value == 0:
                lines.append(f"    {key}: {json.dumps(value)}")
    lines += ["    groups:", "      fitted:", "        weight: 1", "        measures:"]
    for m in fit.measures:
        lines.append(f"          # {m.kpi}: {'lower' if m.direction == 'higher_is_better' else 'higher'} values churned more; "
                     f"alone, as this measure, ROC AUC {m.train_auc.fmt()} on the fitting dates")
        lines.append(f"          {m.kpi}: {{kpi: {m.kpi}, direction: {m.direction}, method: percentile, weight: {m.weight}}}")
    return lines


def write_candidate(text: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
