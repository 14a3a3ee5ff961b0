"""``include/config/kpis.yml``: which events are logins, core actions and milestones, and the KPI declarations.

The KPI SQL receives event names as bind parameters; they are product event
names (values), not SQL identifiers. KPI names become columns of
``marts.account_daily_kpis`` and reach SQL only as ``psycopg.sql.Identifier``.

``kpis:`` maps a KPI name to its declaration. Two tiers:

* a **standard** name (one of ``contracts.kpi_catalog.STANDARD_KPIS``) with a
  label, description and unit and no kind: the KPI the tuned statement
  ``marts/account_daily_kpis.sql`` computes; the entry only names it for people;
* a **custom** name with exactly ONE kind key, computed by ``custom_kpis.py``:
  the event kinds (``count``, ``sum``, ``distinct``, ``ratio``, ``change``,
  ``days_since``) from the per-event rollups, the account kinds (``tenure``,
  ``contract``, ``survey``, ``crm``) from the CRM, contract and survey streams
  as known at the end of each day (``history.<stream>``, like the standard
  statement). Event filters are a list (``events``) or ONE SQL ``LIKE``
  pattern (``events_matching``: ``%`` any run of characters, ``_`` one
  character; chosen over regexes because a pattern an index can serve is enough
  for event-name families like ``message_%``).
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from customer_health.config.loader import Strict, config_version, load_yaml
from customer_health.contracts.kpi_catalog import NUMERIC_KPIS, STANDARD_KPIS
from customer_health.contracts.streams import STREAMS
from customer_health.paths import config_dir



KPI_NAME = r"^[a-z_][a-z0-9_]*$"
Window = Field(ge=1, le=365, description="days, ending on and including the day")
Unit = Literal["count", "days", "percent", "ratio", "minutes", "currency", "score", "text", "date"]
# Columns of marts.account_daily_kpis besides the KPIs: the key, and when the latest answer behind a KPI was given.
MART_COLUMNS_NOT_KPIS = frozenset({"account_id", "day", "nps_latest_at", "csm_sentiment_at"})
KINDS = ("count", "sum", "distinct", "ratio", "change", "days_since", "tenure", "contract", "survey", "crm")
WINDOWED_KINDS = ("count", "sum", "distinct")
# The stream each account kind reads (the event kinds read usage_events).
KIND_STREAMS = {"tenure": "crm_accounts", "contract": "crm_contracts", "survey": "survey_responses", "crm": "crm_accounts"}
_NUMERIC_TYPES = ("smallint", "integer", "bigint", "numeric", "real", "double precision")
# crm: {property: ..}: the numeric columns of the crm_accounts stream (it has no generic properties column).
CRM_NUMERIC_PROPERTIES = tuple(c.name for c in STREAMS["crm_accounts"].schema if c.type in _NUMERIC_TYPES)


class EventFilter(Strict):
    """Which events a kind reads: a list of names, or ONE SQL LIKE pattern (not both)."""

    events: list[str] | None = None
    events_matching: str | None = Field(None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_filter(self):
        if (self.events is None) == (self.events_matching is None):
            raise ValueError("give exactly one of events: [names] or events_matching: 'SQL LIKE pattern' (% any, _ one)")
        if self.events is not None:
            _check_event_names(self.events)
        return self


def _check_event_names(names: list[str]) -> None:
    if not names:
        raise ValueError("events: list at least one event name")
    _check_names(names)


def _check_names(names: list[str]) -> None:
    """Event names are values, but never blank, padded or listed twice."""
    for name in names:
        if not name or name != name.strip():
            raise ValueError(f"event name {name!r} is empty or has spaces around it")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"listed twice: {', '.join(duplicates)}")


class CountKind(EventFilter):
    """Events of the filter in the ``window`` days ending on the day."""

    window: int = Window


class SumKind(EventFilter):
    """Sum of ``field`` of the filter's events over the window; ``scale`` converts seconds."""

    field: Literal["duration_seconds"] = "duration_seconds"
    window: int = Window
    scale: Literal["seconds", "minutes", "hours"] = "seconds"


class DistinctKind(Strict):
    """Distinct days, users or features (event names) with events of the optional filter in the window.

    ``days`` and ``features`` come from the per-event rollup
    (``intermediate.account_day_events``); ``users`` from the per-user one
    (``intermediate.account_day_user_events``), kept only while some KPI counts
    users. Without a filter every event counts (login included: the standard
    ``features_used_30d`` leaves it out, ``active_users_30d`` counts users of
    any event).
    """

    of: Literal["days", "users", "features"]
    events: list[str] | None = None
    events_matching: str | None = Field(None, min_length=1, max_length=200)
    window: int = Window

    @model_validator(mode="after")
    def _at_most_one_filter(self):
        if self.events is not None and self.events_matching is not None:
            raise ValueError("give at most one of events: [names] or events_matching: 'SQL LIKE pattern'")
        if self.events is not None:
            _check_event_names(self.events)
        return self


class RatioKind(Strict):
    """numerator / denominator, NULL when the denominator is 0 or NULL.

    "Per active user / per licensed seat / per employee" are ratios whose
    denominator is ``active_users_30d`` / ``licensed_seats`` / ``employees``.
    """

    numerator: str = Field(pattern=KPI_NAME)
    denominator: str = Field(pattern=KPI_NAME)


class ChangeKind(Strict):
    """A windowed custom KPI over its window against the window before it: value / previous - 1 (NULL when previous is 0)."""

    of: str = Field(pattern=KPI_NAME)


class DaysSinceKind(EventFilter):
    """Days since the last (or the first) event of the filter, as of the day; NULL before any."""

    which: Literal["last", "first"] = "last"


class TenureKind(Strict):
    """Days since the account's CRM ``created_at`` (as the CRM said at the end of the day), or since its first event."""

    since: Literal["crm_created", "first_event"] = "crm_created"


class ContractKind(Strict):
    """A fact of the account's contracts as known at the end of the day (``history.crm_contracts``).

    A contract covers ``start_date <= day < end_date`` (``end_date`` is the
    renewal date, when the next term starts), as in the standard statement:

    * ``arr``: summed ARR of the covering contracts (0 between contracts, NULL
      before the first one started) - the standard ``arr``;
    * ``days_to_renewal``: days to the earliest ``end_date`` on or after the day
      of a contract started by then - the standard ``days_to_renewal``;
    * ``days_since_contract_start``: days since the ``start_date`` of the
      covering contract (the latest started when several cover the day), NULL
      when none covers it;
    * ``renewals_so_far``: contracts whose term ended on or before the day
      (``end_date <= day``) and that a later contract (a later ``start_date``,
      on or before the day) followed, whatever their status; NULL before the
      account's first contract started. A churned last contract is not a renewal.
    """

    fact: Literal["arr", "days_to_renewal", "renewals_so_far", "days_since_contract_start"]


class SurveyKind(Strict):
    """Answers of one survey of ``staging.survey_responses`` submitted by the end of the day (UTC).

    ``latest``: the last answer (ties: the highest response_id); ``age_days``:
    days since it was submitted; ``average``: the mean answer of the
    ``window_days`` days ending on the day (NULL without one). NULL before any answer.
    """

    survey: Literal["nps", "csat"]
    measure: Literal["latest", "age_days", "average"] = "latest"
    window_days: int | None = Field(None, ge=1, le=365, description="days, ending on and including the day (average only)")

    @model_validator(mode="after")
    def _window_only_for_average(self):
        if self.measure == "average" and self.window_days is None:
            raise ValueError("measure average needs window_days: 1..365 (the days it averages, ending on the day)")
        if self.measure != "average" and self.window_days is not None:
            raise ValueError(f"window_days is only for measure average; measure {self.measure} takes the "
                             "latest answer by the day, whatever its age")
        return self


class CrmKind(Strict):
    """A numeric column of the CRM account (``history.crm_accounts``) as known at the end of the day."""

    property: str

    @field_validator("property")
    @classmethod
    def _numeric_column(cls, value: str) -> str:
        if value not in CRM_NUMERIC_PROPERTIES:
            raise ValueError(f"{value!r} is not a numeric property of crm_accounts; allowed: "
                             f"{', '.join(CRM_NUMERIC_PROPERTIES)} (the numeric columns of the crm_accounts stream, "
                             "which has no generic properties column)")
        return value


class KpiDeclaration(Strict):
    """One entry of ``kpis:``: a label and one-line description for people, and (custom KPIs) its one kind."""

    label: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1, max_length=300)
    unit: Unit | None = None
    count: CountKind | None = None
    sum: SumKind | None = None
    distinct: DistinctKind | None = None
    ratio: RatioKind | None = None
    change: ChangeKind | None = None
    days_since: DaysSinceKind | None = None
    tenure: TenureKind | None = None
    contract: ContractKind | None = None
    survey: SurveyKind | None = None
    crm: CrmKind | None = None

    @property
    def kind(self) -> str | None:
        """The kind key given, or None (a standard KPI)."""
        return next((k for k in KINDS if getattr(self, k) is not None), None)

    @property
    def spec(self) -> Strict | None:
        return getattr(self, self.kind) if self.kind else None

    @property
    def window(self) -> int | None:
        return getattr(self.spec, "window", None)

    @model_validator(mode="after")
    def _one_kind(self):
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give exactly one kind, got {', '.join(given)}; allowed: {', '.join(KINDS)}")
        return self

class KpisFile(Strict):
    """The whole file; every key is optional and unknown keys are errors."""

    login_event: str = Field("login", min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")
    """The event that marks a session: logins, last login and session time come from it."""
    core_actions: list[str] = Field(default_factory=list)
    """Events that are the product's core value (counted per active user and per employee)."""
    milestones: list[str] = Field(default_factory=list)
    """Events that mark a success milestone; each distinct one reached counts once, for good."""
    kpis: dict[str, KpiDeclaration] = Field(default_factory=dict)
    """KPI name -> declaration: standard names are labelled here, other names are custom KPIs (one kind each)."""

    @field_validator("core_actions", "milestones")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        _check_names(names)
        return names

    @field_validator("kpis")
    @classmethod
    def _declarations(cls, kpis: dict[str, KpiDeclaration]) -> dict[str, KpiDeclaration]:
        problems = []
        for name, entry in kpis.items():
            if name in STANDARD_KPIS:
                if entry.kind:
                    problems.append(f"{name}: is a standard KPI (computed by the pipeline), so it takes no kind "
                                    f"({entry.kind}); give your KPI another name")
                continue
            if name in MART_COLUMNS_NOT_KPIS:
                problems.append(f"{name}: is a column of marts.account_daily_kpis that is not a KPI; give your KPI "
                                "another name")
            elif not re.fullmatch(KPI_NAME, name) or len(name) > 50:
                problems.append(f"{name!r}: a KPI name is lower case letters, digits and _ (^[a-z_][a-z0-9_]*$, "
                                "at most 50 characters)")
            elif not entry.kind:
                problems.append(f"{name}: not a standard KPI, so give it one kind: {', '.join(KINDS)} "
                                f"(standard: {', '.join(sorted(STANDARD_KPIS))})")
        for name, entry in kpis.items():
            problems += [f"{name}.{p}" for p in _reference_problems(name, entry, kpis)]
        problems += _cycles(kpis)
        if problems:
            raise ValueError("; ".join(problems))
        return kpis

    def custom(self) -> dict[str, KpiDeclaration]:
        """The custom KPIs, in declaration order."""
        return {name: entry for name, entry in self.kpis.items() if entry.kind}

    @model_validator(mode="after")
    def _login_is_not_a_milestone(self):
        if self.login_event in self.milestones:
            raise ValueError(f"milestones: {self.login_event!r} is the login event; a milestone marks a result, not a visit")
        return self


def kpis_path() -> Path:
    return config_dir() / "kpis.yml"


def load_kpis(path: Path | None = None) -> tuple[KpisFile, str]:
    """The validated KPI config and its content hash."""
    path = path or kpis_path()
    return load_yaml(path, KpisFile), config_version(path)


def _reference_problems(name: str, entry: KpiDeclaration, kpis: dict[str, KpiDeclaration]) -> list[str]:
    numeric = set(NUMERIC_KPIS) | {n for n, e in kpis.items() if e.kind}
    if entry.ratio:
        return [f"ratio.{side}: {operand!r} is not a numeric KPI; allowed: standard numeric KPIs "
                f"({', '.join(sorted(NUMERIC_KPIS))}) or a custom KPI of this file"
                for side, operand in (("numerator", entry.ratio.numerator), ("denominator", entry.ratio.denominator))
                if operand not in numeric]
    if entry.change:
        target = kpis.get(entry.change.of)
        if target is None or not has_previous_window(target):
            windowed = sorted(n for n, e in kpis.items() if has_previous_window(e))
            return [f"change.of: {entry.change.of!r} is not a windowed custom KPI (count, sum or distinct of days) of "
                    f"this file; allowed: {', '.join(windowed) or '(none declared)'}"]
    return []


def has_previous_window(entry: KpiDeclaration) -> bool:
    """Whether ``change`` can compare the KPI with its window before: count, sum and distinct days (one shared
    pass of RANGE windows). Distinct users and features count keys over their window, not a sum of days."""
    return entry.kind in WINDOWED_KINDS and not (entry.distinct and entry.distinct.of != "days")


def operands(entry: KpiDeclaration) -> list[str]:
    """The KPIs a declaration is computed from (ratio / change), in order."""
    if entry.ratio:
        return [entry.ratio.numerator, entry.ratio.denominator]
    if entry.change:
        return [entry.change.of]
    return []


def _cycles(kpis: dict[str, KpiDeclaration]) -> list[str]:
    state: dict[str, int] = {}
    problems: list[str] = []

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2 or name not in kpis:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name):] + [name]
            problems.append(f"{name}: refers to itself through {' -> '.join(cycle)}; a KPI cannot depend on itself")
            return
        state[name] = 1
        for operand in operands(kpis[name]):
            visit(operand, path + [name])
        state[name] = 2

    for name in kpis:
        visit(name, [])
    return problems


def definition_hash(name: str, config: KpisFile) -> str:
    """What a custom KPI column holds: its declaration and, recursively, its operands' (a ratio changes with them).

    Label and description are for people and do not change the values, so they
    are not part of it.
    """
    entry = config.kpis[name]
    parts = {"kind": entry.kind, "spec": entry.spec.model_dump(mode="json") if entry.spec else None,
             "operands": {o: definition_hash(o, config) if o in config.kpis and config.kpis[o].kind else "standard"
                          for o in operands(entry)}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
