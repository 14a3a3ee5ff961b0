"""Judge a scorecard version against churn: the cohort, every figure with its interval, a verdict.

Reads marts only (health scores and components, daily KPIs, quadrants,
outcomes) and writes ``marts.evaluation_*``. The design is the one
``include/config/evaluation.yml`` explains: calendar reference dates, the
score stored that day, churn within a horizon, accounts compared only with
others of the same day, bootstrap intervals over accounts.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
import psycopg

from customer_health.config.evaluation import EvaluationFile
from customer_health.config.kpis import KpisFile, load_kpis
from customer_health.evaluation import statistics as st
from customer_health.evaluation.outcomes import build_outcomes
from customer_health.paths import read_sql
from customer_health.config.kpi_catalog import label as kpi_label
from customer_health.config.kpi_catalog import numeric_kpis

log = logging.getLogger(__name__)

BANDS = ("red", "yellow", "green", "insufficient_data")

# KPIs computed from snapshot streams, and the streams they read. The KPI build reads those
# streams' history (history.<stream>, migration V040), so a day's value is what the warehouse knew
# that day - but only from each stream's first load on: on earlier days the earliest version loaded
# stands (the source keeps no history), and it may carry the outcome (a churned account's licence
# at 0 seats, its users removed). Such KPIs are, for an evaluation whose reference dates precede
# that first load, reported with a warning and never held up against the score (nor fitted):
# :func:`not_point_in_time` says which, per run.
SNAPSHOT_KPIS: dict[str, tuple[str, ...]] = {
    "employees": ("crm_accounts",),
    "core_actions_per_employee_30d": ("crm_accounts",),
    "licensed_seats": ("licences",),
    "seat_utilisation": ("licences",),
    "logins_per_seat_30d": ("licences",),
    "issued_seats": ("users",),
}
NOT_POINT_IN_TIME = frozenset(SNAPSHOT_KPIS)
"""The KPIs that can be not point in time: those of :data:`SNAPSHOT_KPIS`."""


def snapshot_kpis() -> dict[str, tuple[str, ...]]:
    """:data:`SNAPSHOT_KPIS` and the ``crm`` KPIs kpis.yml declares: a CRM property read from
    ``history.crm_accounts`` is what the first load found on the days before it, like ``employees``."""
    declared = load_kpis()[0].custom()
    return {**SNAPSHOT_KPIS, **{name: ("crm_accounts",) for name, entry in declared.items() if entry.crm}}


def not_point_in_time(conn: psycopg.Connection, reference_dates: list[date]) -> dict[str, str]:
    """KPI -> why its values on some of ``reference_dates`` are not what was known on them: the dates
    precede the first load kept in its stream's history (or the stream was never loaded)."""
    starts = {r["stream"]: r["first_day"] for r in frame(conn, "evaluation/history_start.sql").to_dict("records")}
    out = {}
    for kpi, streams in snapshot_kpis().items():
        reasons = []
        for stream in streams:
            start = starts.get(stream)
            start = None if start is None or pd.isna(start) else start
            before = [d for d in reference_dates if start is None or d < start]
            if before:
                since = f"starts on {start}" if start else "is empty"
                reasons.append(f"the history of {stream} {since}: {len(before)} of {len(reference_dates)} reference "
                               "dates precede it and read the earliest version loaded, not what was known then")
        if reasons:
            out[kpi] = "; ".join(reasons)
    return out


@dataclass
class Metric:
    subject_kind: str
    subject: str
    scope: str
    metric: str
    estimate: st.Estimate
    signal: str = ""


@dataclass
class Bin:
    scope: str
    bin_kind: str
    bin: str
    position: int
    rows_in_bin: int
    churned_rows: int
    churn_rate: float | None
    churn_rate_low: float | None
    churn_rate_high: float | None
    mean_score: float | None
    arr: float | None
    churned_arr: float | None


@dataclass
class Diagnostic:
    kind: str
    subject: str
    scope: str
    detail: str


@dataclass
class PlayEffect:
    play: str
    after_days: int
    treated: int
    held_out: int
    treated_churn_rate: float | None
    held_out_churn_rate: float | None
    churn_difference: float | None
    churn_difference_low: float | None
    churn_difference_high: float | None
    treated_score_change: float | None
    held_out_score_change: float | None
    score_difference: float | None
    score_difference_low: float | None
    score_difference_high: float | None
    verdict: str


@dataclass
class Evaluation:
    config_version: str
    horizon_days: int
    reference_dates: list[date]
    rows: int
    accounts: int
    churned_rows: int
    score_auc: st.Estimate
    verdict: str
    metrics: list[Metric] = field(default_factory=list)
    bins: list[Bin] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    play_effects: list[PlayEffect] = field(default_factory=list)
    run_id: int | None = None
    # KPI -> why it is not point in time on these reference dates (see not_point_in_time).
    not_point_in_time: dict[str, str] = field(default_factory=dict)

    def metric(self, subject_kind: str, subject: str, metric: str = "roc_auc", scope: str = "all") -> Metric | None:
        for m in self.metrics:
            if (m.subject_kind, m.subject, m.metric, m.scope) == (subject_kind, subject, metric, scope):
                return m
        return None


def frame(conn: psycopg.Connection, relative: str, params: dict | None = None) -> pd.DataFrame:
    """The rows of one SELECT in ``include/sql`` as a DataFrame, columns by name."""
    with conn.cursor() as cur:
        cur.execute(read_sql(relative), params or {})
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


FULL_WINDOW_DAYS = 30  # the longest KPI window: earlier reference dates would see partial windows


def data_span(conn: psycopg.Connection) -> tuple[date, date]:
    span = frame(conn, "evaluation/data_span.sql").iloc[0]
    if span["last_day"] is None or pd.isna(span["last_day"]):
        raise LookupError("No KPIs in marts.account_daily_kpis yet: run build_health_scores first.")
    return span["first_day"], span["last_day"]


def reference_dates(first_day: date, last_day: date, horizon: int, settings: EvaluationFile,
                    window: dict | None = None) -> list[date]:
    """Calendar reference dates for one horizon: the last day whose horizon (plus the grace days that
    make a churn known) lies inside the data, then every ``reference_every_days`` back. Never chosen
    from churn dates, so churners and the rest are judged on the same days."""
    day = last_day - timedelta(days=horizon + settings.grace_days + 1)
    first_usable = first_day + timedelta(days=FULL_WINDOW_DAYS)
    dates = []
    while day >= first_usable and len(dates) < settings.max_reference_dates:
        dates.append(day)
        day -= timedelta(days=settings.reference_every_days)
    window = window or {}
    return sorted(d for d in dates if (window.get("first") is None or d >= window["first"])
                  and (window.get("last") is None or d <= window["last"]))


# An AUC this close to 0.5 is "negligible" even when its interval excludes 0.5 (a KPI that is the
# same for nearly every account can be precisely useless): nothing to act on, never fitted.
NEGLIGIBLE_AUC_DISTANCE = 0.02


def signal_of(estimate: st.Estimate, min_churned: int) -> str:
    if estimate.value is None or estimate.positives < min_churned:
        return "too few to tell"
    if estimate.includes_half:
        return "no significant signal"
    if abs(estimate.value - 0.5) < NEGLIGIBLE_AUC_DISTANCE:
        return "negligible"
    return "lower is riskier" if estimate.low > 0.5 else "higher is riskier"


def evaluate(
    conn: psycopg.Connection,
    settings: EvaluationFile,
    kpis_config: KpisFile | None = None,
    *,
    version: str | None = None,
    horizons: list[int] | None = None,
    write: bool = True,
    window: dict | None = None,
) -> list[Evaluation]:
    """Evaluate one scorecard version (default: the live one) at each horizon; write marts.evaluation_*.
    ``window`` ({"first": date, "last": date}) keeps only the reference dates inside it."""
    started = time.monotonic()
    first_day, as_of = data_span(conn)
    churns = build_outcomes(conn, settings, as_of)
    version = version or live_version(conn)
    log.info("evaluate %s: data %s to %s, %d churns known", version, first_day, as_of, churns)
    scorecard_kpis = set(frame(conn, "evaluation/version_kpis.sql", {"config_version": version})["kpi"])
    unused_events = _unused_event_names(conn, kpis_config)
    results = []
    for horizon in horizons or settings.horizons_days:
        refs = reference_dates(first_day, as_of, horizon, settings, window)
        result = _evaluate_horizon(conn, settings, version, horizon, refs, scorecard_kpis, unused_events, as_of)
        tasks = frame(conn, "evaluation/play_outcomes.sql",
                      {"after_days": horizon, "as_of": as_of, "config_version": version})
        result.play_effects = [_play_effect(play, rows, horizon, settings)
                               for play, rows in sorted(tasks.groupby("play"))]
        if write:
            _write(conn, settings, result)
        results.append(result)
        log.info("evaluate %s at %d days: %s", version, horizon, result.verdict)
    log.info("evaluation done in %.1fs", time.monotonic() - started)
    return results


def live_version(conn: psycopg.Connection) -> str:
    latest = frame(conn, "evaluation/latest_version.sql")
    if latest.empty:
        raise LookupError("No health scores yet: run build_health_scores first.")
    return latest["config_version"].iloc[0]


def _unused_event_names(conn, kpis_config: KpisFile | None) -> tuple[list[str], list[str]]:
    """Configured event names that never occur, and (when some do not) the names the data has instead."""
    if kpis_config is None:
        return [], []
    configured = sorted({kpis_config.login_event, *kpis_config.core_actions, *kpis_config.milestones})
    unused = list(frame(conn, "evaluation/unused_event_names.sql", {"configured": configured})["name"])
    others = list(frame(conn, "evaluation/event_names_not_configured.sql", {"configured": configured})["name"]) \
        if unused else []
    return unused, others


def _evaluate_horizon(conn, settings, version, horizon, refs, scorecard_kpis, unused_events, as_of) -> Evaluation:
    params = {"config_version": version, "reference_dates": refs, "horizon_days": horizon}
    cohort = frame(conn, "evaluation/cohort.sql", params) if refs else pd.DataFrame()
    if cohort.empty:
        verdict = (f"Nothing to judge at {horizon} days: version {version} has no stored score on a reference date "
                   f"({', '.join(map(str, refs)) or 'none fits'}): a reference date must lie {horizon} + "
                   f"{settings.grace_days} grace days before the last data day ({as_of}) and 30 days after the first. "
                   "`evaluate` scores missing reference dates unless --no-backfill is given.")
        return Evaluation(version, horizon, refs, 0, 0, 0, st.Estimate(None, None, None, 0, 0), verdict)
    cohort["churned"] = cohort["churned"].astype(bool)
    cohort["risk"] = -cohort["score"].astype(float)
    samples, seed, min_churned = settings.bootstrap_samples, settings.seed, settings.min_churned_rows
    refs = sorted(set(cohort["reference_date"]))
    result = Evaluation(
        version, horizon, refs, len(cohort), cohort["account_id"].nunique(), int(cohort["churned"].sum()),
        st.Estimate(None, None, None, 0, 0), "", not_point_in_time=not_point_in_time(conn, refs),
    )
    scopes = [("all", cohort)] + [(f"scorecard:{name}", rows) for name, rows in sorted(cohort.groupby("scorecard"))]
    # B2B churn happens at a contract end: nearness of renewal alone "predicts" churn within the
    # horizon. Among the accounts whose renewal falls inside it, the score must still tell them apart.
    renewing = cohort[cohort["days_to_renewal"].notna() & (cohort["days_to_renewal"] <= horizon)]
    if not renewing.empty and len(renewing) < len(cohort):  # monthly subscriptions: everyone renews, nothing to add
        scopes.append(("renewing_within_horizon", renewing))
    for scope, rows in scopes:
        result.metrics.extend(_score_metrics(rows, scope, samples, seed, min_churned))
        if scope != "renewing_within_horizon":
            result.bins.extend(_bins(rows, scope))
        result.diagnostics.extend(_band_diagnostics(rows, scope))
    result.score_auc = result.metric("score", "health_score").estimate

    measures = frame(conn, "evaluation/cohort_measures.sql", params)
    if not measures.empty:
        measures = measures.merge(cohort[["account_id", "reference_date", "churned"]], on=["account_id", "reference_date"])
        result.metrics.extend(_measure_metrics(measures, samples, seed, min_churned))
        result.diagnostics.extend(_measure_diagnostics(measures, settings.saturated_share))
    kpis = frame(conn, "evaluation/cohort_kpis.sql", {"reference_dates": refs})
    if not kpis.empty:
        kpis = kpis.rename(columns={"day": "reference_date"}).merge(
            cohort[["account_id", "reference_date", "churned"]], on=["account_id", "reference_date"])
        kpi_metrics = _kpi_metrics(kpis, samples, seed, min_churned)
        result.metrics.extend(kpi_metrics)
        result.diagnostics.extend(_unused_kpi_diagnostics(kpi_metrics, scorecard_kpis, result.score_auc,
                                                          result.not_point_in_time))
        result.diagnostics.extend(
            Diagnostic("not_point_in_time", m.subject, "all",
                       f"{m.subject} (AUC {m.estimate.fmt()}): {result.not_point_in_time[m.subject]}. Its figure may "
                       "carry the outcome itself and is not compared with the score.")
            for m in kpi_metrics if m.subject in result.not_point_in_time
            and not (m.estimate.low is not None and m.estimate.low == m.estimate.high))  # constant: carries nothing
    quadrants = frame(conn, "evaluation/cohort_quadrants.sql", params)
    if not quadrants.empty:
        result.bins.extend(_quadrant_bins(quadrants.merge(cohort, on=["account_id", "reference_date"])))
    unused_names, other_names = unused_events
    result.diagnostics.extend(
        Diagnostic("unused_event_name", name, "all",
                   f"kpis.yml names the event {name!r}, which never occurs in staging.usage_events: every KPI "
                   "counting it is zero. Check the product's event names.")
        for name in unused_names
    )
    if other_names:
        result.diagnostics.append(Diagnostic(
            "unmapped_event_names", ", ".join(other_names), "all",
            f"The product sends {len(other_names)} event name(s) that kpis.yml names nowhere: {', '.join(other_names)}. "
            "Map the session, core-action and milestone events among them in kpis.yml, rebuild history and "
            "evaluate again."))
    result.verdict = _verdict(result, min_churned)
    return result


def _score_metrics(rows: pd.DataFrame, scope: str, samples: int, seed: int, min_churned: int) -> list[Metric]:
    risk = rows["risk"].to_numpy(dtype=float)
    churned = rows["churned"].to_numpy()
    auc = st.auc_with_interval(risk, churned, rows["reference_date"].to_numpy(), rows["account_id"].to_numpy(),
                               samples=samples, seed=seed)
    signal = {"lower is riskier": "foresees churn", "higher is riskier": "points the wrong way"}.get(
        signal_of(auc, min_churned), signal_of(auc, min_churned))
    metrics = [Metric("score", "health_score", scope, "roc_auc", auc, signal)]
    scored = rows.dropna(subset=["risk"])
    # The loop-based intervals (PR AUC, lift) resample whole frames: fewer draws keep them quick.
    loop_samples = min(samples, 200)
    pr = st.pr_auc(risk, churned)
    lift = st.top_decile_lift(rows)
    pr_draws, lift_draws = [], []
    if loop_samples and (pr is not None or lift is not None):
        for draw in st.resampled(scored, loop_samples, seed + 1):
            pr_draws.append(st.pr_auc(draw["risk"].to_numpy(dtype=float), draw["churned"].to_numpy()))
            lift_draws.append(st.top_decile_lift(draw))
    n, positives = len(scored), int(scored["churned"].sum())
    metrics.append(Metric("score", "health_score", scope, "pr_auc", st.Estimate(pr, *st.interval(pr_draws), n, positives),
                          f"baseline {positives / n:.3f} (the churn rate)" if n else ""))
    metrics.append(Metric("score", "health_score", scope, "top_decile_lift",
                          st.Estimate(lift, *st.interval(lift_draws), n, positives), "1.0 = no better than chance"))
    red = rows[rows["band"] == "red"]
    precision = st.wilson(int(red["churned"].sum()), len(red))
    recall = st.wilson(int(red["churned"].sum()), int(rows["churned"].sum()))
    metrics.append(Metric("score", "health_score", scope, "red_precision",
                          st.Estimate(precision[0], precision[1], precision[2], len(red), int(red["churned"].sum())),
                          "share of red accounts that churned"))
    metrics.append(Metric("score", "health_score", scope, "red_recall",
                          st.Estimate(recall[0], recall[1], recall[2], int(rows["churned"].sum()), int(red["churned"].sum())),
                          "share of churners that were red"))
    rate = st.wilson(int(rows["churned"].sum()), len(rows))
    metrics.append(Metric("score", "health_score", scope, "churn_rate",
                          st.Estimate(rate[0], rate[1], rate[2], len(rows), int(rows["churned"].sum())), ""))
    return metrics


def _bins(rows: pd.DataFrame, scope: str) -> list[Bin]:
    out = []
    for position, band in enumerate(BANDS):
        out.append(_bin(rows[rows["band"] == band], scope, "band", band, position))
    scored = rows.dropna(subset=["score"]).copy()
    if not scored.empty:
        scored["decile"] = st.deciles_within(scored, "score")
        for decile in range(1, 11):
            out.append(_bin(scored[scored["decile"] == decile], scope, "decile", str(decile), decile))
    return out


def _bin(rows: pd.DataFrame, scope: str, kind: str, name: str, position: int) -> Bin:
    churned = rows[rows["churned"]]
    rate, low, high = st.wilson(len(churned), len(rows))
    return Bin(scope, kind, name, position, len(rows), len(churned), rate, low, high,
               float(rows["score"].mean()) if rows["score"].notna().any() else None,
               float(rows["arr"].sum()) if len(rows) else None, float(churned["arr"].sum()) if len(rows) else None)


def _quadrant_bins(rows: pd.DataFrame) -> list[Bin]:
    return [_bin(group, "all", "quadrant", quadrant, position)
            for position, (quadrant, group) in enumerate(sorted(rows.groupby("quadrant")))]


def _band_diagnostics(rows: pd.DataFrame, scope: str) -> list[Diagnostic]:
    """Bands no account reached, among the rows that got a number. Rows left insufficient_data are a
    different cause (too little of the scorecard's weight had a value) and are said as such: an
    unreachable cut point and an unmeasured account need different fixes."""
    if not scope.startswith("scorecard:"):
        return []
    card, dates = scope.split(":", 1)[1], rows["reference_date"].nunique()
    out = []
    insufficient = int((rows["band"] == "insufficient_data").sum())
    if insufficient and insufficient / len(rows) > 0.5:
        out.append(Diagnostic(
            "insufficient_coverage", card, scope,
            f"{insufficient} of {len(rows)} rows of {card} ({insufficient / len(rows):.0%}) were insufficient_data: the "
            "measures with a value carried less than the scorecard's min_coverage of its weight, so they got no "
            "number at all. See the missing measures: drop them, or feed their KPIs."))
    scored = rows[rows["band"] != "insufficient_data"]
    if scored.empty:
        return out
    present = set(scored["band"])
    out.extend(Diagnostic("empty_band", band, scope,
                          f"No scored account of {card} was {band} on any of the {dates} reference dates "
                          f"({len(scored)} rows with a score): the band's cut points are not reached.")
               for band in ("red", "yellow", "green") if band not in present)
    return out


def _measure_metrics(measures: pd.DataFrame, samples: int, seed: int, min_churned: int) -> list[Metric]:
    out = []
    for measure, rows in sorted(measures.groupby("measure")):
        estimate = st.auc_with_interval(
            -rows["measure_score"].to_numpy(dtype=float), rows["churned"].to_numpy(),
            rows["reference_date"].to_numpy(), rows["account_id"].to_numpy(), samples=samples, seed=seed)
        out.append(Metric("measure", measure, "all", "roc_auc", estimate, signal_of(estimate, min_churned)))
    return out


def _measure_diagnostics(measures: pd.DataFrame, saturated_share: float) -> list[Diagnostic]:
    out = []
    for (scorecard, measure), rows in sorted(measures.groupby(["scorecard", "measure"])):
        values = rows["measure_score"].dropna()
        scope = f"scorecard:{scorecard}"
        if values.empty:
            kpi = rows["kpi"].iloc[0]
            out.append(Diagnostic("missing_measure", measure, scope,
                                  f"{measure} had no value on any of {len(rows)} rows: its KPI {kpi_label(kpi)} ({kpi}) is empty for every "
                                  f"account here (it is built from the {numeric_kpis().get(kpi, '?')} stream; per-seat KPIs "
                                  "also need licences, login KPIs the login_event of kpis.yml). Its weight is spread over "
                                  "the other measures and lowers every account's coverage: drop it from this scorecard, "
                                  "or feed its KPI."))
            continue
        if values.nunique() == 1:
            out.append(Diagnostic("constant_measure", measure, scope,
                                  f"{measure} scored {values.iloc[0]:.0f} for every one of {len(values)} rows: it tells "
                                  "no account from another. Check its KPI and thresholds."))
            continue
        for end, label in ((100.0, "best"), (0.0, "worst")):
            share = float((values == end).mean())
            if share > saturated_share:
                out.append(Diagnostic("saturated_measure", measure, scope,
                                      f"{measure} sat at its {label} value ({end:.0f}) for {share:.0%} of rows: move its "
                                      "thresholds, or score it as a percentile within the segment."))
    return out


def _kpi_metrics(kpis: pd.DataFrame, samples: int, seed: int, min_churned: int) -> list[Metric]:
    out = []
    for kpi in sorted(k for k in numeric_kpis() if k in kpis.columns):
        values = pd.to_numeric(kpis[kpi], errors="coerce").to_numpy(dtype=float)
        if np.isnan(values).all():
            continue
        estimate = st.auc_with_interval(-values, kpis["churned"].to_numpy(), kpis["reference_date"].to_numpy(),
                                        kpis["account_id"].to_numpy(), samples=samples, seed=seed)
        out.append(Metric("kpi", kpi, "all", "roc_auc", estimate, signal_of(estimate, min_churned)))
    # Many KPIs tested at once: a KPI is a signal only if it survives the false-discovery adjustment.
    tested = {id(m) for m in out if m.estimate.p_value is not None and m.signal.endswith("is riskier")}
    judged = [m for m in out if m.estimate.p_value is not None]
    adjusted = st.false_discovery_adjusted([m.estimate.p_value for m in judged])
    for m, q in zip(judged, adjusted):
        if id(m) in tested and q >= 1 - st.CONFIDENCE:
            m.signal = (f"no significant signal once {len(judged)} KPIs are tested together "
                        f"(Benjamini-Hochberg adjusted p {q:.2f})")
    return out


def _unused_kpi_diagnostics(kpi_metrics: list[Metric], scorecard_kpis: set[str], score: st.Estimate,
                            leaky: dict[str, str]) -> list[Diagnostic]:
    out = []
    score_strength = abs(score.value - 0.5) if score.value is not None else 0.0
    for m in kpi_metrics:
        if (m.subject in scorecard_kpis or m.subject in leaky or m.subject == "days_to_renewal"
                or m.signal not in ("lower is riskier", "higher is riskier")):
            continue
        strength = abs(m.estimate.value - 0.5)
        stronger = " - more than the whole score" if strength > score_strength else ""
        out.append(Diagnostic("unused_kpi_with_signal", m.subject, "all",
                              f"{m.subject} is in no scorecard but separates churners on its own: AUC {m.estimate.fmt()} "
                              f"({m.signal}){stronger}."))
    return out


MIN_GROUP = 20  # fewer tasks than this on either side: "too few to tell"


def _play_effect(play: str, rows: pd.DataFrame, after_days: int, settings: EvaluationFile) -> PlayEffect:
    """Treated against held-out accounts of one play: churn and score change ``after_days`` later, with
    95 % bootstrap intervals of the differences over accounts (resampled within each group)."""
    rows = rows.assign(churned=rows["churned"].astype(bool))
    treated, held = rows[~rows["held_out"]], rows[rows["held_out"]]

    def rate(frame_):
        return float(frame_["churned"].mean()) if len(frame_) else None

    def change(frame_):
        values = frame_["score_change"].dropna()
        return float(values.mean()) if len(values) else None

    effect = PlayEffect(play, after_days, len(treated), len(held), rate(treated), rate(held), None, None, None,
                        change(treated), change(held), None, None, None, "")
    if min(len(treated), len(held)) < MIN_GROUP:
        effect.verdict = (f"Too few to tell: {len(treated)} treated and {len(held)} held-out tasks old enough to judge "
                          f"(at least {MIN_GROUP} of each are needed).")
        return effect
    effect.churn_difference = effect.treated_churn_rate - effect.held_out_churn_rate
    if effect.treated_score_change is not None and effect.held_out_score_change is not None:
        effect.score_difference = effect.treated_score_change - effect.held_out_score_change
    churn_draws, score_draws = [], []
    samples = min(settings.bootstrap_samples, 300)
    for t, h in zip(st.resampled(treated, samples, settings.seed + 2), st.resampled(held, samples, settings.seed + 3)):
        churn_draws.append(rate(t) - rate(h))
        ct, ch = change(t), change(h)
        score_draws.append(None if ct is None or ch is None else ct - ch)
    effect.churn_difference_low, effect.churn_difference_high = st.interval(churn_draws)
    effect.score_difference_low, effect.score_difference_high = st.interval(score_draws)
    low, high = effect.churn_difference_low, effect.churn_difference_high
    figures = (f"churn within {after_days} days {effect.treated_churn_rate:.1%} treated vs {effect.held_out_churn_rate:.1%} "
               f"held out ({len(treated)} vs {len(held)} tasks)")
    if low is None or low <= 0 <= high:
        effect.verdict = f"No significant effect on churn: {figures}, difference {effect.churn_difference:+.1%} (95 % CI {_pp(low)} to {_pp(high)})."
    else:
        word = "lower" if high < 0 else "higher"
        effect.verdict = f"Churn is {word} where the play ran: {figures}, difference {effect.churn_difference:+.1%} (95 % CI {_pp(low)} to {_pp(high)})."
    return effect


def _pp(value) -> str:
    return "n/a" if value is None else f"{value:+.1%}"


def _verdict(result: Evaluation, min_churned: int) -> str:
    auc = result.score_auc
    cohort = (f"{result.rows:,} account-days of {result.accounts:,} accounts on {len(result.reference_dates)} "
              f"reference dates, {result.churned_rows} churned within {result.horizon_days} days")
    if auc.value is None or auc.positives < min_churned:
        unscored = result.churned_rows - auc.positives
        why = (f" The other {unscored} churned rows had no score (insufficient_data: see the coverage diagnostics)."
               if unscored > 0 else "")
        return (f"Too few to tell: {auc.positives} churned rows with a score ({cohort}); at least {min_churned} "
                f"are needed before any figure means something.{why}")
    if auc.includes_half:
        head = f"No significant signal: the score's ROC AUC is {auc.fmt()}, and the interval includes 0.5 (chance)"
    elif auc.low > 0.5:
        strength = "weakly" if auc.value < 0.6 else ("moderately" if auc.value < 0.7 else "well")
        head = f"The score foresees churn {strength}: ROC AUC {auc.fmt()}"
    else:
        head = (f"The score points the wrong way: accounts it rates healthier churned more (ROC AUC {auc.fmt()}); "
                "check the measures' directions")
    best = max((m for m in result.metrics if m.subject_kind == "kpi" and m.signal.endswith("is riskier")
                and m.subject not in result.not_point_in_time and m.subject != "days_to_renewal"),
               key=lambda m: abs(m.estimate.value - 0.5), default=None)
    tail = ""
    if best is not None and abs(best.estimate.value - 0.5) > abs(auc.value - 0.5) + 0.02:
        tail = (f" The KPI {best.subject} alone reaches AUC {best.estimate.fmt()} ({best.signal}): the scorecard loses "
                "signal its own KPIs carry - see the diagnostics, or fit a candidate.")
    renewing = result.metric("score", "health_score", scope="renewing_within_horizon")
    if renewing is not None and renewing.estimate.value is not None:
        tail += (f" Among accounts renewing within the horizon (where churn can happen), ROC AUC "
                 f"{renewing.estimate.fmt()}: {renewing.signal}.")
    return f"{head} ({cohort}).{tail}"


def _write(conn: psycopg.Connection, settings: EvaluationFile, result: Evaluation) -> None:
    auc = result.score_auc
    (run_id,) = conn.execute(read_sql("evaluation/insert_run.sql"), {
        "config_version": result.config_version, "horizon_days": result.horizon_days,
        "first_reference": min(result.reference_dates) if result.reference_dates else None,
        "last_reference": max(result.reference_dates) if result.reference_dates else None,
        "reference_every_days": settings.reference_every_days, "rows_evaluated": result.rows,
        "accounts": result.accounts, "churned_rows": result.churned_rows,
        "auc": auc.value, "auc_low": auc.low, "auc_high": auc.high, "verdict": result.verdict,
        "settings": json.dumps(settings.model_dump()),
    }).fetchone()
    result.run_id = run_id
    with conn.cursor() as cur:
        cur.executemany(read_sql("evaluation/insert_metric.sql"), [
            {"run_id": run_id, "subject_kind": m.subject_kind, "subject": m.subject, "scope": m.scope,
             "metric": m.metric, "value": m.estimate.value, "ci_low": m.estimate.low, "ci_high": m.estimate.high,
             "rows_used": m.estimate.rows, "churned_rows": m.estimate.positives, "signal": m.signal}
            for m in result.metrics
        ])
        cur.executemany(read_sql("evaluation/insert_bin.sql"), [{"run_id": run_id, **vars(b)} for b in result.bins])
        cur.executemany(read_sql("evaluation/insert_diagnostic.sql"),
                        [{"run_id": run_id, **vars(d)} for d in result.diagnostics])
        cur.executemany(read_sql("evaluation/insert_play_effect.sql"),
                        [{"run_id": run_id, **vars(e)} for e in result.play_effects])
