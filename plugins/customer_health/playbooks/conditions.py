"""Whether a play's conditions hold for one account, and why, in words.

Each condition returns None when it does not hold, else a short reason; a
play fires when all of its conditions hold, and the task's ``reason`` joins
theirs. ``streams`` says which feeds a condition reads, for the stale gate.
"""
from __future__ import annotations

from dataclasses import dataclass

from customer_health.config.playbooks import KpiRule, Play, When
from customer_health.config.scorecards import Condition
from customer_health.contracts.kpi_catalog import ALL_KPIS

SCORE_STREAMS = {"usage_events", "users", "licences", "crm_accounts", "crm_contracts", "crm_expansions", "survey_responses"}


@dataclass
class AccountFacts:
    """What conditions and templates read about one account on one day."""

    account_id: str
    quadrant: str
    band: str
    score: float | None
    band_yesterday: str | None
    best_recent_score: dict[int, float | None]  # within_days -> highest score in the days before
    kpis: dict
    cmi: float | None
    cmi_stale: bool


def holds(condition: Condition, value) -> bool:
    if value is None:
        return False
    for op, expected in condition.tests():
        listed = expected if isinstance(expected, list) else [expected]
        if op in ("eq", "in") and not any(_same(value, e) for e in listed):
            return False
        if op in ("ne", "not_in") and any(_same(value, e) for e in listed):
            return False
        if op == "lt" and not value < expected:
            return False
        if op == "lte" and not value <= expected:
            return False
        if op == "gt" and not value > expected:
            return False
        if op == "gte" and not value >= expected:
            return False
    return True


def _same(value, expected) -> bool:
    if isinstance(value, (int, float)) and isinstance(expected, (int, float)):
        return float(value) == float(expected)
    return str(value) == str(expected)


def _kpi(rule: KpiRule, facts: AccountFacts) -> str | None:
    value = facts.kpis.get(rule.kpi)
    if not holds(rule, None if value is None else float(value)):
        return None
    shown = f"{float(value):.0%}" if rule.kpi.endswith("_pct") else f"{float(value):g}"
    return f"{rule.kpi} is {shown}"


def evaluate(when: When, facts: AccountFacts) -> str | None:
    """The reason the conditions hold, or None."""
    reasons: list[str] = []

    def need(reason: str | None) -> bool:
        if reason is None:
            return False
        reasons.append(reason)
        return True

    if when.quadrant is not None and not need(
        f"quadrant {facts.quadrant}" if facts.quadrant in when.quadrant else None
    ):
        return None
    if when.band is not None and not need(f"band {facts.band}" if facts.band in when.band else None):
        return None
    if when.band_changed_to is not None and not need(
        f"band changed from {facts.band_yesterday} to {facts.band}"
        if facts.band == when.band_changed_to and facts.band_yesterday not in (None, facts.band) else None
    ):
        return None
    if when.score_drop is not None:
        best = facts.best_recent_score.get(when.score_drop.within_days)
        drop = (best - facts.score) if best is not None and facts.score is not None else None
        if not need(
            f"score dropped {drop:.0f} points in {when.score_drop.within_days} days (from {best:.0f} to {facts.score:.0f})"
            if drop is not None and drop >= when.score_drop.points else None
        ):
            return None
    for rule in when.kpi or []:
        if not need(_kpi(rule, facts)):
            return None
    if when.renewal_within_days is not None:
        days = facts.kpis.get("days_to_renewal")
        if not need(f"renewal in {days} days" if days is not None and 0 <= days <= when.renewal_within_days else None):
            return None
    if when.nps_detractor and not need(
        f"latest NPS {facts.kpis['nps_latest']:g}" if facts.kpis.get("nps_latest") is not None
        and float(facts.kpis["nps_latest"]) <= 6 else None
    ):
        return None
    if when.cmi is not None:
        missing, stale = facts.cmi is None, facts.cmi is not None and facts.cmi_stale
        fires = {"missing": missing, "stale": stale, "missing_or_stale": missing or stale}[when.cmi]
        if not need(("maturity never assessed" if missing else "maturity assessment is stale") if fires else None):
            return None
    return "; ".join(reasons)


def segment_matches(play: Play, facts: AccountFacts) -> bool:
    return all(holds(condition, facts.kpis.get(field)) for field, condition in play.segment.items())


def streams_read(when: When) -> set[str]:
    """Feeds a play depends on: if one is stale today, the play creates nothing."""
    streams: set[str] = set()
    if when.quadrant or when.band or when.band_changed_to or when.score_drop:
        streams |= SCORE_STREAMS
    for rule in when.kpi or []:
        streams.add(ALL_KPIS[rule.kpi])
    if when.renewal_within_days:
        streams.add("crm_contracts")
    if when.nps_detractor or when.cmi:
        streams.add("survey_responses")
    return streams
