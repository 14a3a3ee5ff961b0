"""``include/config/cmi.yml``: the Customer Maturity Index model and the health x maturity cut points."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from customer_health.config.loader import Strict, config_version, load_yaml
from customer_health.paths import config_dir


class Factor(Strict):
    description: str = ""
    questions: dict[str, Literal["what", "how_well", "relation"]] = Field(min_length=1)
    """Question id (the survey's field ref) -> the angle it asks from."""


class Characteristic(Strict):
    label: str
    weight: float = Field(gt=0)
    factors: dict[str, Factor] = Field(min_length=1)


class Quadrants(Strict):
    health_cut: float = Field(60, ge=0, le=100)
    maturity_cut: float = Field(3.0, ge=1, le=5)


class CmiFile(Strict):
    stale_after_days: int = Field(365, gt=0)
    quadrants: Quadrants = Quadrants()
    characteristics: dict[str, Characteristic] = Field(min_length=1)

    @model_validator(mode="after")
    def _questions_once(self):
        seen: dict[str, str] = {}
        for name, characteristic in self.characteristics.items():
            for factor_name, factor in characteristic.factors.items():
                for question in factor.questions:
                    where = f"{name}.{factor_name}"
                    if question in seen:
                        raise ValueError(f"question {question!r} is used by {seen[question]} and {where}; use it once")
                    seen[question] = where
        return self

    def question_rows(self) -> list[tuple[str, str, str, float]]:
        """(question, characteristic, factor, characteristic weight) for the SQL that scores assessments."""
        return [
            (question, name, factor_name, characteristic.weight)
            for name, characteristic in self.characteristics.items()
            for factor_name, factor in characteristic.factors.items()
            for question in factor.questions
        ]


def cmi_path() -> Path:
    return config_dir() / "cmi.yml"


def load_cmi(path: Path | None = None) -> tuple[CmiFile, str]:
    path = path or cmi_path()
    return load_yaml(path, CmiFile), config_version(path)
