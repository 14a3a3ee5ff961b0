"""``include/config/evaluation.yml``: how a scorecard is judged against churn (the Check of PDCA)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from customer_health.config.loader import Strict, load_yaml
from customer_health.paths import config_dir


class EvaluationFile(Strict):
    """Every key has a default; unknown keys are errors."""

    horizons_days: list[int] = Field(default_factory=lambda: [30, 60, 90], min_length=1)
    """A row is churned when its account churned within this many days after the reference date."""
    reference_every_days: int = Field(30, ge=1, le=366)
    """Days between reference dates (every account active that day is a row)."""
    max_reference_dates: int = Field(24, ge=1, le=400)
    """At most this many reference dates, the latest first."""
    grace_days: int = Field(30, ge=0, le=365)
    """A contract end followed by no new contract within this many days is a churn."""
    expansion_min_change: float = Field(0.05, ge=0, le=1)
    """A successor contract with ARR this share above (below) the ended one is an expansion (contraction)."""
    min_churned_rows: int = Field(10, ge=1)
    """Below this many churned rows a figure is "too few to tell", whatever its interval."""
    bootstrap_samples: int = Field(500, ge=0, le=10000)
    """Resamples of accounts for every 95 % interval (0: no intervals, for quick looks only)."""
    seed: int = 20261201
    """Seed of the bootstrap, so a rerun gives the same intervals."""
    saturated_share: float = Field(0.8, gt=0, le=1)
    """A measure at its best or worst value for more than this share of rows is saturated."""

    @field_validator("horizons_days")
    @classmethod
    def _horizons(cls, horizons: list[int]) -> list[int]:
        for horizon in horizons:
            if not 1 <= horizon <= 730:
                raise ValueError(f"a horizon must be 1-730 days, got {horizon}")
        if len(set(horizons)) != len(horizons):
            raise ValueError("a horizon is listed twice")
        return sorted(horizons)


def evaluation_path() -> Path:
    return config_dir() / "evaluation.yml"


def load_evaluation(path: Path | None = None) -> EvaluationFile:
    return load_yaml(path or evaluation_path(), EvaluationFile)
