"""``include/config/playbooks.yml``: when a play fires and the task it creates.

Templates (Jinja, sandboxed, strict about undefined names, bounded in steps,
size and time: ``config/templates.py``) are rendered at validation twice: for
a sample account with every value present, and for one where every value a
real day may lack (any KPI of the catalogue, the score, the CMI, account
details) is None, except what the play's own conditions guarantee (a
``kpi: [{kpi: nps_latest, ...}]`` play only fires when nps_latest is known).
So a typo, a KPI not in the catalogue, ``{{ kpis.nps_latest + 1 }}`` or a
runaway loop fails validation naming the play and key, not a task at 5 a.m.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from jinja2 import TemplateError, UndefinedError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from customer_health.config.loader import Strict, config_version, load_yaml
from customer_health.config.scorecards import Condition, check_segment
from customer_health.config.templates import render
from customer_health.config.kpi_catalog import all_kpis, numeric_kpis
from customer_health.contracts.kpi_catalog import ALL_KPIS, NUMERIC_KPIS
from customer_health.paths import config_dir
from customer_health.registry import DELIVERY_CHANNELS, PLAY_CONDITIONS

QUADRANTS = ("star", "cash_cow", "worth_keeping", "tough", "unknown_maturity", "unknown_health")
BANDS = ("red", "yellow", "green", "insufficient_data")


class When(BaseModel):
    """Every condition given must hold (AND); give at least one.

    The keys are the names of registered play conditions
    (``playbooks/conditions.py``); each value is checked by that condition's
    own params model, so the error path is ``plays[i].when.<name>...``. An
    absent condition reads as None, one set to ``false`` is off.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    @model_validator(mode="wrap")
    @classmethod
    def _registered_conditions(cls, data: Any, handler):
        if not isinstance(data, dict):
            return handler(data)
        errors: list[InitErrorDetails] = []
        checked: dict[str, Any] = {}
        for name, value in data.items():
            if name not in PLAY_CONDITIONS:
                errors.append(InitErrorDetails(
                    type=PydanticCustomError("unknown_condition", "unknown play condition {name}; allowed: {allowed}",
                                             {"name": repr(name), "allowed": ", ".join(sorted(PLAY_CONDITIONS))}),
                    loc=(name,), input=value))
            elif value is not None:
                try:
                    checked[name] = PLAY_CONDITIONS.get(name).validate(value)
                except ValidationError as exc:
                    errors.extend(_under(name, exc))
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        if not checked:
            raise ValueError("a play needs at least one condition")
        return handler(checked)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if not name.startswith("_") and name in PLAY_CONDITIONS:
                return None  # a registered condition this play does not use
            raise

    def given(self) -> list[tuple[str, Any]]:
        """(condition name, params) of the conditions in force, in the registry's order (stable reasons)."""
        extra = self.__pydantic_extra__ or {}
        return [(name, extra[name]) for name in PLAY_CONDITIONS.names()
                if extra.get(name) is not None and extra.get(name) is not False]


def _under(name: str, exc: ValidationError) -> list[InitErrorDetails]:
    """A condition's own validation errors, placed under its key."""
    nested = []
    for err in exc.errors():
        details = InitErrorDetails(type=err["type"], loc=(name, *err["loc"]), input=err["input"])
        if "ctx" in err:
            details["ctx"] = err["ctx"]
        nested.append(details)
    return nested


def _registered_channel(channel: str) -> str:
    if channel not in DELIVERY_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; allowed: {', '.join(sorted(DELIVERY_CHANNELS))}")
    return channel


Channel = Annotated[str, AfterValidator(_registered_channel)]
"""The name of a registered delivery channel (``delivery/``: crm, slack, email, or one added there)."""


class TaskTemplate(Strict):
    title: str
    body: str
    priority: Literal["high", "medium", "low"] = "medium"
    due_in_days: int = Field(7, ge=0, le=365)
    channels: list[Channel] | None = None  # None: the defaults' channels
    who: str = Field(description="who acts (role), e.g. 'the account CSM, with their manager in copy'")
    what: str
    when: str
    where: str
    why: str
    how: str



class Play(Strict):
    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    description: str = ""
    when: When
    segment: dict[str, Condition] = Field(default_factory=dict)
    task: TaskTemplate
    cooldown_days: int | None = Field(None, ge=0)
    auto_close: bool | None = None
    holdout: float | None = Field(None, ge=0, lt=1)
    """Share of the accounts the play fires for whose task is recorded but not delivered: its control group."""

    @model_validator(mode="after")
    def _segment_fields(self):
        check_segment(self.segment)
        return self


class Defaults(Strict):
    fallback_queue: str = "cs-unassigned"
    channels: list[Channel] = ["crm", "slack"]
    cooldown_days: int = Field(14, ge=0)
    auto_close: bool = True
    holdout: float = Field(0.0, ge=0, lt=1)
    """Default control-group share of every play (0: every task is delivered; nothing can be measured)."""



class PlaybooksFile(Strict):
    defaults: Defaults = Defaults()
    plays: list[Play] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_and_renderable(self):
        names = [p.name for p in self.plays]
        if len(set(names)) != len(names):
            raise ValueError("play names must be unique")
        for index, play in enumerate(self.plays):
            for field in ("title", "body", "who", "what", "when", "where", "why", "how"):
                problem = template_problem(getattr(play.task, field), play)
                if problem:
                    raise ValueError(f"plays[{index}] ({play.name}).task.{field}: {problem}")
        return self


def template_problem(text: str, play: Play) -> str | None:
    """Why a template cannot be trusted for every account the play may fire for, or None.

    Rendered with every value present, then with every value a real day may lack set to None
    (but those the play's conditions guarantee): what fails there would fail on some account."""
    guaranteed = set()
    for name, params in play.when.given():
        guaranteed |= PLAY_CONDITIONS.get(name).guarantees(params)
    full = sample_context()
    for context, sample in ((full, "a sample account"), (sparse_context(guaranteed), "an account missing "
                            "values (any KPI, the score, the CMI or an account detail may be None on a real day)")):
        try:
            render(text, context)
        except UndefinedError as exc:
            return (f"template error: {exc}; a template can use {', '.join(sorted(SAMPLE_CONTEXT))}, "
                    f"and kpis.<name> for a KPI of the catalogue: {', '.join(sorted(all_kpis()))}")
        except TemplateError as exc:  # syntax, sandbox, or over its budget of steps, size or time
            return f"template error: {exc}"
        except Exception as exc:  # noqa: BLE001 - whatever a template's data does, validation reports it
            if context is full:
                return f"template error: {type(exc).__name__}: {exc}"
            return (f"template fails for {sample}: {type(exc).__name__}: {exc}; guard the value, e.g. "
                    "{% if kpis.nps_latest is not none %}...{% endif %} or {{ kpis.nps_latest | default(0, true) }}")
    return None


# What a template can use; validation renders every template against it.
SAMPLE_CONTEXT = {
    "account": {"id": "5000000001", "name": "Sample KK", "csm_name": "Aiko Tanaka", "csm_email": "aiko@example.com",
                "industry": "Retail", "region": "JP", "employees": 120, "lifecycle_stage": "customer",
                "csm_id": "7", "arr": 48000.0, "renewal_date": "2027-03-31"},
    "kpis": {k: 1 for k in NUMERIC_KPIS} | {k: "x" for k in ALL_KPIS if k not in NUMERIC_KPIS},
    "score": {"value": 55.0, "band": "yellow", "change_7d": -12.0, "change_30d": -20.0, "scorecard": "smb",
              "top_drivers": [{"measure": "seat_utilisation", "change": -8.0}]},
    "cmi": {"value": 2.4, "assessed_at": "2026-05-01", "stale": False},
    "quadrant": "worth_keeping",
    "reason": "score dropped 12 points in 7 days",
    "day": "2026-11-22",
    "due_date": "2026-11-29",
}


# May be None on a real day (sparse_context sets them so); the rest are always there.
NULLABLE = {"account": ("industry", "region", "employees", "lifecycle_stage", "arr", "renewal_date", "csm_email"),
            "score": ("value", "change_7d", "change_30d"), "cmi": ("value", "assessed_at")}


def sample_context() -> dict:
    """SAMPLE_CONTEXT with ``kpis`` holding every KPI of the catalogue in force (the custom ones of kpis.yml too)."""
    numeric = numeric_kpis()
    return {**SAMPLE_CONTEXT, "kpis": {k: 1 if k in numeric else "x" for k in all_kpis()}}


def sparse_context(guaranteed: set[str]) -> dict:
    """The sample context with every KPI and every NULLABLE value None, except the dotted names in ``guaranteed``."""
    sample = sample_context()
    context = {key: dict(value) if isinstance(value, dict) else value for key, value in sample.items()}
    context["kpis"] = {k: (v if f"kpis.{k}" in guaranteed else None) for k, v in sample["kpis"].items()}
    context["score"]["top_drivers"] = []
    for part, names in NULLABLE.items():
        context[part].update({n: None for n in names if f"{part}.{n}" not in guaranteed})
    return context


def playbooks_path() -> Path:
    return config_dir() / "playbooks.yml"


def load_playbooks(path: Path | None = None) -> tuple[PlaybooksFile, str]:
    path = path or playbooks_path()
    return load_yaml(path, PlaybooksFile), config_version(path)
