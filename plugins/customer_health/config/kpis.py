"""``include/config/kpis.yml``: which product events count as logins, core actions and milestones.

The KPI SQL receives these names as bind parameters; they are product event
names (values), not SQL identifiers.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from customer_health.config.loader import Strict, config_version, load_yaml
from customer_health.paths import config_dir


class KpisFile(Strict):
    """The whole file; every key is optional and unknown keys are errors."""

    login_event: str = Field("login", min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")
    """The event that marks a session: logins, last login and session time come from it."""
    core_actions: list[str] = Field(default_factory=list)
    """Events that are the product's core value (counted per active user and per employee)."""
    milestones: list[str] = Field(default_factory=list)
    """Events that mark a success milestone; each distinct one reached counts once, for good."""

    @field_validator("core_actions", "milestones")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not name or name != name.strip():
                raise ValueError(f"event name {name!r} is empty or has spaces around it")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"listed twice: {', '.join(duplicates)}")
        return names

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
