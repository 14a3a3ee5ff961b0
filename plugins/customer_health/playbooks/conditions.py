"""Play conditions: when a play fires for one account, and why, in words.

Each condition is a function registered under the name a play uses in its
``when:`` block, with the type its YAML value must have (a pydantic model or
any annotation pydantic validates) and the feeds it reads. It returns None
when it does not hold, else a short reason; a play fires when all of its
conditions hold, and the task's ``reason`` joins theirs in registration order.
``reads`` says which feeds a condition depends on, for the stale gate;
``guarantees`` which template values are never None when it holds (validation
renders templates with every other value None).

Adding a condition is one decorated function (here or in any module imported
before the playbooks are validated) plus its key in playbooks.yml::

    @play_condition("seats_below", Annotated[int, Field(gt=0)], reads={"licences"})
    def seats_below(limit: int, facts: AccountFacts) -> str | None:
        seats = facts.kpis.get("licensed_seats")
        return f"{seats} licensed seats" if seats is not None and seats < limit else None
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from customer_health.config.playbooks import BANDS, QUADRANTS, Play, When
from customer_health.config.scorecards import Condition
from customer_health.config.loader import Strict
from customer_health.config.kpi_catalog import all_kpis, label, numeric_kpis
from customer_health.registry import PLAY_CONDITIONS

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


@dataclass(frozen=True)
class PlayCondition:
    """A registered condition: how its YAML value is checked, how it is tested, what it reads."""

    name: str
    params: TypeAdapter
    implementation: Callable[[Any, AccountFacts], str | None]
    reads: Callable[[Any], set[str]]
    guarantees: Callable[[Any], set[str]] = lambda _params: set()

    def validate(self, value: Any) -> Any:
        """The YAML value as the condition's params (raises pydantic's ValidationError)."""
        return self.params.validate_python(value)


def play_condition(name: str, params: Any, *, reads: Iterable[str] | Callable[[Any], set[str]] = (),
                   guarantees: Iterable[str] | Callable[[Any], set[str]] = ()):
    """Register the decorated ``fn(params, facts) -> reason | None`` as the play condition ``name``;
    ``guarantees`` names the template values (``kpis.nps_latest``, ``score.value``) known whenever it holds."""
    def register(fn: Callable[[Any, AccountFacts], str | None]):
        PLAY_CONDITIONS.register(name, PlayCondition(name, TypeAdapter(params), fn, _as_function(reads),
                                                     _as_function(guarantees)))
        return fn

    return register


def _as_function(names: Iterable[str] | Callable[[Any], set[str]]) -> Callable[[Any], set[str]]:
    return names if callable(names) else (lambda _params, fixed=frozenset(names): set(fixed))


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


# --- the built-in conditions (their order is the order of the reasons) ------------------------------------------


class ScoreDrop(Strict):
    points: float = Field(gt=0)
    within_days: int = Field(gt=0, le=90)


class KpiRule(Condition):
    """A test on one KPI, e.g. {kpi: logins_change_30d_pct, lt: -0.3} for a 30 % login drop."""

    kpi: str

    @model_validator(mode="after")
    def _numeric(self):
        if self.kpi not in numeric_kpis():
            raise ValueError(f"kpi {self.kpi!r} is not a numeric KPI; allowed: {', '.join(sorted(numeric_kpis()))}")
        return self


@play_condition("quadrant", list[Literal[QUADRANTS]], reads=SCORE_STREAMS,  # type: ignore[valid-type]
                guarantees=lambda quadrants: set() if "unknown_health" in quadrants else {"score.value"})
def _quadrant(quadrants: list[str], facts: AccountFacts) -> str | None:
    return f"quadrant {facts.quadrant}" if facts.quadrant in quadrants else None


@play_condition("band", list[Literal[BANDS]], reads=SCORE_STREAMS,  # type: ignore[valid-type]
                guarantees=lambda bands: set() if "insufficient_data" in bands else {"score.value"})
def _band(bands: list[str], facts: AccountFacts) -> str | None:
    return f"band {facts.band}" if facts.band in bands else None


@play_condition("band_changed_to", Literal[BANDS], reads=SCORE_STREAMS,
                guarantees=lambda band: set() if band == "insufficient_data" else {"score.value"})  # type: ignore[valid-type]
def _band_changed_to(band: str, facts: AccountFacts) -> str | None:
    if facts.band == band and facts.band_yesterday not in (None, facts.band):
        return f"band changed from {facts.band_yesterday} to {facts.band}"
    return None


@play_condition("score_drop", ScoreDrop, reads=SCORE_STREAMS, guarantees={"score.value"})
def _score_drop(rule: ScoreDrop, facts: AccountFacts) -> str | None:
    best = facts.best_recent_score.get(rule.within_days)
    drop = (best - facts.score) if best is not None and facts.score is not None else None
    if drop is None or drop < rule.points:
        return None
    return f"score dropped {drop:.0f} points in {rule.within_days} days (from {best:.0f} to {facts.score:.0f})"


def _kpi(rule: KpiRule, facts: AccountFacts) -> str | None:
    value = facts.kpis.get(rule.kpi)
    if not holds(rule, None if value is None else float(value)):
        return None
    shown = f"{float(value):.0%}" if rule.kpi.endswith("_pct") else f"{float(value):g}"
    return f"{label(rule.kpi)} is {shown}"


@play_condition("kpi", list[KpiRule], reads=lambda rules: {all_kpis()[rule.kpi] for rule in rules},
                guarantees=lambda rules: {f"kpis.{rule.kpi}" for rule in rules})
def _kpis(rules: list[KpiRule], facts: AccountFacts) -> str | None:
    reasons = [_kpi(rule, facts) for rule in rules]
    return None if None in reasons else "; ".join(reasons)


@play_condition("renewal_within_days", Annotated[int, Field(gt=0)], reads={"crm_contracts"},
                guarantees={"kpis.days_to_renewal"})
def _renewal_within_days(within: int, facts: AccountFacts) -> str | None:
    days = facts.kpis.get("days_to_renewal")
    return f"renewal in {days} days" if days is not None and 0 <= days <= within else None


@play_condition("nps_detractor", bool, reads={"survey_responses"}, guarantees={"kpis.nps_latest"})
def _nps_detractor(_wanted: bool, facts: AccountFacts) -> str | None:
    latest = facts.kpis.get("nps_latest")
    return f"latest NPS {latest:g}" if latest is not None and float(latest) <= 6 else None


@play_condition("cmi", Literal["missing", "stale", "missing_or_stale"], reads={"survey_responses"},
                guarantees=lambda which: {"cmi.value", "cmi.assessed_at"} if which == "stale" else set())
def _cmi(which: str, facts: AccountFacts) -> str | None:
    missing, stale = facts.cmi is None, facts.cmi is not None and facts.cmi_stale
    if not {"missing": missing, "stale": stale, "missing_or_stale": missing or stale}[which]:
        return None
    return "maturity never assessed" if missing else "maturity assessment is stale"


# --- what the engine calls ----------------------------------------------------------------------------------------


def evaluator(when: When) -> Callable[[AccountFacts], str | None]:
    """A play's test of one account: the reason its conditions hold, or None. The conditions are looked
    up once per play, not per account: the engine runs every play over every account (20,000 x the
    plays a day), and looking them up each time cost more than the checks themselves."""
    checks = [(PLAY_CONDITIONS.get(name).implementation, params) for name, params in when.given()]

    def reason_of(facts: AccountFacts) -> str | None:
        reasons: list[str] = []
        for implementation, params in checks:
            reason = implementation(params, facts)
            if reason is None:
                return None
            reasons.append(reason)
        return "; ".join(reasons)

    return reason_of


def segment_matches(play: Play, facts: AccountFacts) -> bool:
    return all(holds(condition, facts.kpis.get(field)) for field, condition in play.segment.items())


def streams_read(when: When) -> set[str]:
    """Feeds a play depends on: if one is stale today, the play creates nothing."""
    streams: set[str] = set()
    for name, params in when.given():
        streams |= PLAY_CONDITIONS.get(name).reads(params)
    return streams
