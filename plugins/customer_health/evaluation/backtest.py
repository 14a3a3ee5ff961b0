"""Re-score history under a candidate scorecard file and judge it against the live one on identical rows.

``python -m customer_health backtest CANDIDATE.yml [--from D] [--to D]``:

1. Register the candidate's version (its content hash) and mark it a candidate:
   its scores sit in the same marts, tagged with that version, and nothing live
   reads them. Live rows are never touched (a day's rescoring deletes only the
   rows of its own version).
2. Score the reference dates in the window under the candidate and, where
   missing, under the live version (``fill_reference_scores``).
3. Evaluate both, then compare them on the rows both scored with a paired
   bootstrap interval of the AUC difference: "no significant difference"
   whenever it includes 0.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg

from customer_health.config.evaluation import EvaluationFile
from customer_health.config.kpis import KpisFile, load_kpis
from customer_health.config.scorecards import load_scorecards
from customer_health.contracts.versions import scoring_version
from customer_health.evaluation import statistics as st
from customer_health.evaluation.evaluate import Evaluation, evaluate, frame, live_version
from customer_health.evaluation.pipeline import fill_reference_scores
from customer_health.paths import read_sql
from customer_health.scoring.engine import register_version
from customer_health.warehouse.sqlfiles import run_sql_file

log = logging.getLogger(__name__)


@dataclass
class Comparison:
    horizon_days: int
    candidate: Evaluation
    live: Evaluation
    rows: int
    churned_rows: int
    difference: float | None
    low: float | None
    high: float | None
    candidate_auc: float | None
    live_auc: float | None
    verdict: str
    seconds: float = 0.0


def register_candidate(conn: psycopg.Connection, path: Path) -> str:
    """Register a candidate file's version as the daily run would name it: its scorecards with the
    current kpis.yml (a score's version covers both files), marked a candidate."""
    config, scorecards_version = load_scorecards(path)
    version = scoring_version(scorecards_version, load_kpis()[1])
    with conn.transaction():
        was_new = register_version(conn, config, version, path.read_text(encoding="utf-8"))
        run_sql_file(conn, "evaluation/mark_candidate.sql", {"config_version": version, "was_new": was_new})
    return version


def backtest(
    conn: psycopg.Connection,
    candidate_path: Path,
    settings: EvaluationFile,
    kpis_config: KpisFile | None = None,
    *,
    first: date | None = None,
    last: date | None = None,
    horizons: list[int] | None = None,
) -> list[Comparison]:
    started = time.monotonic()
    horizons = horizons or settings.horizons_days
    live = live_version(conn)
    candidate = register_candidate(conn, candidate_path)
    conn.commit()
    window = {"first": first, "last": last}
    # nothing reads a candidate's per-measure explanations: skipped (its scores are the same either way)
    scored = fill_reference_scores(conn, settings, candidate, horizons, **window)
    fill_reference_scores(conn, settings, live, horizons, **window)
    log.info("backtest: %d reference dates scored under candidate %s", len(scored), candidate)
    comparisons = []
    with conn.transaction():
        candidate_runs = evaluate(conn, settings, kpis_config, version=candidate, horizons=horizons, window=window)
        live_runs = evaluate(conn, settings, kpis_config, version=live, horizons=horizons, window=window)
        for cand, base in zip(candidate_runs, live_runs):
            comparisons.append(_compare(conn, settings, cand, base))
    for c in comparisons:
        c.seconds = time.monotonic() - started
    return comparisons


def _compare(conn, settings: EvaluationFile, cand: Evaluation, base: Evaluation) -> Comparison:
    params = {"horizon_days": cand.horizon_days}
    refs = sorted(set(cand.reference_dates) & set(base.reference_dates))
    a = frame(conn, "evaluation/cohort.sql", {**params, "config_version": cand.config_version, "reference_dates": refs})
    b = frame(conn, "evaluation/cohort.sql", {**params, "config_version": base.config_version, "reference_dates": refs})
    rows = a.merge(b[["account_id", "reference_date", "score"]], on=["account_id", "reference_date"],
                   suffixes=("_candidate", "_live")).dropna(subset=["score_candidate", "score_live"])
    churned = rows["churned"].to_numpy().astype(bool)
    difference, low, high, auc_a, auc_b = st.paired_auc_difference(
        -rows["score_candidate"].to_numpy(dtype=float), -rows["score_live"].to_numpy(dtype=float), churned,
        rows["reference_date"].to_numpy(), rows["account_id"].to_numpy(),
        samples=settings.bootstrap_samples, seed=settings.seed)
    verdict = _verdict(cand, base, len(rows), int(churned.sum()), difference, low, high, auc_a, auc_b,
                       settings.min_churned_rows)
    (comparison_id,) = conn.execute(read_sql("evaluation/insert_comparison.sql"), {
        "horizon_days": cand.horizon_days, "candidate_version": cand.config_version,
        "live_version": base.config_version, "candidate_run_id": cand.run_id, "live_run_id": base.run_id,
        "rows_compared": len(rows), "churned_rows": int(churned.sum()), "candidate_auc": auc_a, "live_auc": auc_b,
        "auc_difference": difference, "difference_low": low, "difference_high": high, "verdict": verdict,
    }).fetchone()
    log.info("comparison %s: %s", comparison_id, verdict)
    return Comparison(cand.horizon_days, cand, base, len(rows), int(churned.sum()), difference, low, high,
                      auc_a, auc_b, verdict)


def _verdict(cand, base, rows, churned, difference, low, high, auc_a, auc_b, min_churned) -> str:
    what = f"candidate {cand.config_version} against live {base.config_version} at {cand.horizon_days} days"
    if difference is None or churned < min_churned:
        return f"Too few to tell ({what}): {churned} churned rows among {rows} scored by both; at least {min_churned} needed."
    figures = (f"AUC {auc_a:.2f} vs {auc_b:.2f}, difference {difference:+.2f}"
               + (f" (95 % CI {low:+.2f} to {high:+.2f})" if low is not None else "")
               + f" on the same {rows:,} account-days, {churned} churned")
    if low is None or low <= 0 <= high:
        return f"No significant difference ({what}): {figures}."
    return f"The candidate is {'better' if low > 0 else 'worse'} ({what}): {figures}."

