"""``include/config/operations.yml``: when the daily scoring runs at the latest, and when its scores are due."""
from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import field_validator, model_validator

from customer_health.config.loader import Strict, load_yaml
from customer_health.paths import config_dir


class OperationsFile(Strict):
    """Times of day in UTC, written "HH:MM"."""

    scoring_fallback_at: time = time(5, 0)
    """build_health_scores runs at this time even when a source has not landed (the Assets trigger it earlier)."""
    scores_due_by: time = time(6, 30)
    """check_scores_on_time alerts when the day before has no scores by then."""

    @field_validator("scoring_fallback_at", "scores_due_by", mode="before")
    @classmethod
    def _hh_mm(cls, value: object) -> object:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 05:00 as the sexagesimal number 300
            raise ValueError(f'write the time in quotes, "HH:MM" (YAML read {value!r} as a number)')
        if isinstance(value, str) and (len(value) != 5 or value[2] != ":"):
            raise ValueError(f'a time of day must be "HH:MM" (UTC), got {value!r}')
        return value

    @model_validator(mode="after")
    def _due_after_fallback(self) -> OperationsFile:
        if self.scores_due_by <= self.scoring_fallback_at:
            raise ValueError(f"scores_due_by ({self.scores_due_by:%H:%M}) must be later than scoring_fallback_at "
                             f"({self.scoring_fallback_at:%H:%M}): the scores cannot be due before the run that makes them")
        return self

    @staticmethod
    def cron(at: time) -> str:
        """The daily cron expression of a time of day."""
        return f"{at.minute} {at.hour} * * *"


def operations_path() -> Path:
    return config_dir() / "operations.yml"


def load_operations(path: Path | None = None) -> OperationsFile:
    return load_yaml(path or operations_path(), OperationsFile)
