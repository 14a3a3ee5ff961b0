"""``include/config/playbooks.yml``: when a play fires and the task it creates.

Templates (Jinja, sandboxed, strict about undefined names) are compiled and
rendered against a sample account at validation time, so a typo in a
template fails validation naming the play, not a task at 5 a.m.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import Field, model_validator

from customer_health.config.loader import Strict, config_version, load_yaml
from customer_health.config.scorecards import Condition, check_segment
from customer_health.contracts.kpi_catalog import ALL_KPIS, NUMERIC_KPIS
from customer_health.paths import config_dir

QUADRANTS = ("star", "cash_cow", "worth_keeping", "tough", "unknown_maturity", "unknown_health")
BANDS = ("red", "yellow", "green", "insufficient_data")
CHANNELS = ("crm", "slack", "email")

TEMPLATES = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class ScoreDrop(Strict):
    points: float = Field(gt=0)
    within_days: int = Field(gt=0, le=90)


class KpiRule(Condition):
    """A test on one KPI, e.g. {kpi: logins_change_30d_pct, lt: -0.3} for a 30 % login drop."""

    kpi: str

    @model_validator(mode="after")
    def _numeric(self):
        if self.kpi not in NUMERIC_KPIS:
            raise ValueError(f"kpi {self.kpi!r} is not a numeric KPI; allowed: {', '.join(sorted(NUMERIC_KPIS))}")
        return self


class When(Strict):
    """Every condition given must hold (AND); give at least one."""

    quadrant: list[Literal[QUADRANTS]] | None = None  # type: ignore[valid-type]
    band: list[Literal[BANDS]] | None = None  # type: ignore[valid-type]
    band_changed_to: Literal[BANDS] | None = None  # type: ignore[valid-type]
    score_drop: ScoreDrop | None = None
    kpi: list[KpiRule] | None = None
    renewal_within_days: int | None = Field(None, gt=0)
    nps_detractor: bool | None = None
    cmi: Literal["missing", "stale", "missing_or_stale"] | None = None

    @model_validator(mode="after")
    def _something(self):
        if not self.model_dump(exclude_none=True):
            raise ValueError("a play needs at least one condition")
        return self


class TaskTemplate(Strict):
    title: str
    body: str
    priority: Literal["high", "medium", "low"] = "medium"
    due_in_days: int = Field(7, ge=0, le=365)
    channels: list[Literal[CHANNELS]] | None = None  # type: ignore[valid-type]
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

    @model_validator(mode="after")
    def _segment_fields(self):
        check_segment(self.segment)
        return self


class Defaults(Strict):
    fallback_queue: str = "cs-unassigned"
    channels: list[Literal[CHANNELS]] = ["crm", "slack"]  # type: ignore[valid-type]
    cooldown_days: int = Field(14, ge=0)
    auto_close: bool = True


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
                try:
                    TEMPLATES.from_string(getattr(play.task, field)).render(SAMPLE_CONTEXT)
                except TemplateError as exc:
                    raise ValueError(f"plays[{index}] ({play.name}).task.{field}: template error: {exc}") from None
        return self


# What a template can use; validation renders every template against it.
SAMPLE_CONTEXT = {
    "account": {"id": "5000000001", "name": "Sample KK", "csm_name": "Aiko Tanaka", "csm_email": "aiko@example.com",
                "industry": "Retail", "region": "JP", "employees": 120, "lifecycle_stage": "customer"},
    "kpis": {k: 1 for k in NUMERIC_KPIS} | {k: "x" for k in ALL_KPIS if k not in NUMERIC_KPIS},
    "score": {"value": 55.0, "band": "yellow", "change_7d": -12.0, "change_30d": -20.0, "scorecard": "smb",
              "top_drivers": [{"measure": "seat_utilisation", "change": -8.0}]},
    "cmi": {"value": 2.4, "assessed_at": "2026-05-01", "stale": False},
    "quadrant": "worth_keeping",
    "reason": "score dropped 12 points in 7 days",
    "day": "2026-11-22",
    "due_date": "2026-11-29",
}


def playbooks_path() -> Path:
    return config_dir() / "playbooks.yml"


def load_playbooks(path: Path | None = None) -> tuple[PlaybooksFile, str]:
    path = path or playbooks_path()
    return load_yaml(path, PlaybooksFile), config_version(path)
