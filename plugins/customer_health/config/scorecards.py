"""``include/config/scorecards.yml``: how KPIs become a 0-100 health score, per segment.

Validated before anything runs; every error names the key path and what is
allowed. The content hash of the file is the ``config_version`` stamped on
every score it produces.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from customer_health.config.loader import Strict, config_version, load_yaml
from customer_health.config.kpi_catalog import all_kpis, numeric_kpis
from customer_health.contracts.streams import STREAMS
from customer_health.paths import config_dir

Name = Field(pattern=r"^[a-z_][a-z0-9_]*$")


class Bands(Strict):
    """score < red is red, score >= green is green, in between yellow."""

    red: float = Field(40, ge=0, le=100)
    green: float = Field(70, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self):
        if self.red > self.green:
            raise ValueError(f"red ({self.red}) must not be above green ({self.green})")
        return self


class Condition(Strict):
    """One test on a KPI or account attribute; all tests of a segment must hold."""

    eq: str | float | None = None
    ne: str | float | None = None
    in_: list[str | float] | None = Field(None, alias="in")
    not_in: list[str | float] | None = None
    lt: float | None = None
    lte: float | None = None
    gt: float | None = None
    gte: float | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_at_least(self):
        if not self.tests():
            raise ValueError("give at least one of eq, ne, in, not_in, lt, lte, gt, gte")
        return self

    def tests(self) -> list[tuple[str, object]]:
        return [
            (op, value)
            for op, value in (
                ("eq", self.eq), ("ne", self.ne), ("in", self.in_), ("not_in", self.not_in),
                ("lt", self.lt), ("lte", self.lte), ("gt", self.gt), ("gte", self.gte),
            )
            if value is not None
        ]


def check_segment(segment: dict[str, Condition]) -> None:
    """A segment names known KPIs and compares numbers with numbers, text with eq / ne / in / not_in."""
    for field, condition in segment.items():
        if field not in all_kpis():
            raise ValueError(f"segment field {field!r} unknown; allowed: {', '.join(sorted(all_kpis()))}")
        for op, value in condition.tests():
            values = value if isinstance(value, list) else [value]
            if field in numeric_kpis() and not all(isinstance(v, (int, float)) for v in values):
                raise ValueError(f"segment.{field}.{op}: {field} is a number; compare it with numbers, got {value!r}")
            if field not in numeric_kpis() and op in ("lt", "lte", "gt", "gte"):
                raise ValueError(f"segment.{field}.{op}: {field} is text; use eq, ne, in or not_in")


class Missing(Strict):
    """What a measure does when its KPI has no value: skip it (its weight spreads) or score it as a fixed value."""

    score: float = Field(ge=0, le=100)


class Measure(Strict):
    kpi: str
    direction: Literal["higher_is_better", "lower_is_better"]
    method: Literal["thresholds", "percentile", "boolean"]
    red: float | None = None
    green: float | None = None
    weight: float = Field(gt=0)
    missing: Literal["skip"] | Missing = "skip"
    description: str = ""

    @model_validator(mode="after")
    def _fits(self):
        if self.kpi not in numeric_kpis():
            raise ValueError(f"kpi {self.kpi!r} is not a numeric KPI; allowed: {', '.join(sorted(numeric_kpis()))}")
        if self.method == "thresholds":
            if self.red is None or self.green is None:
                raise ValueError("method thresholds needs red and green cut points")
            if self.red == self.green:
                raise ValueError("red and green cut points must differ")
            if (self.direction == "higher_is_better") != (self.red < self.green):
                better = "above" if self.direction == "higher_is_better" else "below"
                raise ValueError(f"direction {self.direction} needs green {better} red (got red {self.red}, green {self.green})")
        elif self.red is not None or self.green is not None:
            raise ValueError(f"red / green cut points only apply to method thresholds, not {self.method}")
        return self


class Group(Strict):
    weight: float = Field(gt=0)
    measures: dict[str, Measure] = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self):
        for name in self.measures:
            if not name.replace("_", "a").isalnum() or not name[0].isalpha() or name != name.lower():
                raise ValueError(f"measure name {name!r} must be lower_snake_case")
        return self


class Scorecard(Strict):
    name: str = Name
    description: str = ""
    segment: dict[str, Condition] = Field(default_factory=dict)
    """Who this scorecard is for; empty = everyone (the catch-all, which must come last)."""
    bands: Bands | None = None
    min_coverage: float | None = Field(None, ge=0, le=1)
    groups: dict[str, Group] = Field(min_length=1)

    @model_validator(mode="after")
    def _segment_fields(self):
        check_segment(self.segment)
        measures = [m for g in self.groups.values() for m in g.measures]
        if len(set(measures)) != len(measures):
            raise ValueError("a measure name appears in two groups; measure names must be unique in a scorecard")
        return self


class GateRule(Strict):
    """When a stream counts as stale for a day: no load for ``max_age``, or far fewer rows than usual."""

    max_age: timedelta | None = None
    min_volume_ratio: float | None = Field(None, gt=0, le=1)
    """Rows on the day below this share of the same weekday's average over the four weeks before mean a broken feed."""


class Rollup(Strict):
    method: Literal["arr_weighted", "mean"] = "arr_weighted"


class ScorecardsFile(Strict):
    """The whole file. Top-level keys starting with ``x-`` hold YAML anchors to reuse, as in Compose files."""

    @model_validator(mode="before")
    @classmethod
    def _drop_extension_keys(cls, data):
        return {k: v for k, v in data.items() if not str(k).startswith("x-")} if isinstance(data, dict) else data

    bands: Bands = Bands()
    min_coverage: float = Field(0.6, ge=0, le=1)
    rollup: Rollup = Rollup()
    quality_gate: dict[str, GateRule] = Field(default_factory=dict)
    scorecards: list[Scorecard] = Field(min_length=1)

    @model_validator(mode="after")
    def _gate_streams(self):
        for stream in self.quality_gate:
            if stream not in STREAMS:
                raise ValueError(f"quality_gate: unknown stream {stream!r}; allowed: {', '.join(sorted(STREAMS))}")
        return self

    @model_validator(mode="after")
    def _exactly_one_each(self):
        names = [s.name for s in self.scorecards]
        if len(set(names)) != len(names):
            raise ValueError("scorecard names must be unique")
        catch_alls = [i for i, s in enumerate(self.scorecards) if not s.segment]
        if not catch_alls or catch_alls[0] != len(self.scorecards) - 1:
            raise ValueError(
                "the last scorecard must have no segment (the catch-all), and only the last: "
                "first match wins, so every account gets exactly one scorecard"
            )
        return self


def scorecards_path() -> Path:
    return config_dir() / "scorecards.yml"


def load_scorecards(path: Path | None = None) -> tuple[ScorecardsFile, str]:
    """The validated scorecards and their config version (content hash)."""
    path = path or scorecards_path()
    return load_yaml(path, ScorecardsFile), config_version(path)
