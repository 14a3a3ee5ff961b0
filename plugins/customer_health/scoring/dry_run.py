"""Review a scorecard change before merging it: who would change band, who moves most, and why.

Both the current and the candidate scorecards score the same day inside one
transaction that is always rolled back, so nothing is written. ``also`` runs
inside that transaction with the candidate's scores in place (the CLI passes
the CSM task preview of ``playbooks/pipeline.py``), and its lines are printed
after the movers.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg

from customer_health.config.scorecards import ScorecardsFile, load_scorecards, scorecards_path
from customer_health.scoring.engine import register_version, score_day
from customer_health.warehouse import config_versions
from customer_health.warehouse.sqlfiles import fetch_one_sql_file, fetch_sql_file


@dataclass
class Mover:
    account_id: str
    before: float | None
    after: float | None
    band_before: str
    band_after: str
    reasons: list[str] = field(default_factory=list)
    name: str | None = None
    csm: str | None = None
    arr: float | None = None

    def who(self) -> str:
        """The account as a CSM knows it: name, id, CSM and ARR, where the warehouse has them."""
        if self.name is None:
            return self.account_id
        details = [self.account_id] + ([f"CSM {self.csm}"] if self.csm else []) + (
            [f"ARR {self.arr:,.0f}"] if self.arr is not None else [])
        return f"{self.name} ({', '.join(details)})"


@dataclass
class DryRun:
    day: date
    current_version: str
    candidate_version: str
    accounts: int
    band_changes: dict[tuple[str, str], int]
    movers: list[Mover]
    changed_keys: list[str] = field(default_factory=list)
    more: list[str] = field(default_factory=list)

    def render(self) -> str:
        changed = sum(self.band_changes.values())
        lines = [
            f"Dry run for {self.day}: current {self.current_version} vs candidate {self.candidate_version}",
            f"{changed} of {self.accounts} accounts would change band" + (":" if changed else "."),
        ]
        lines += [f"  {a} -> {b}: {n}" for (a, b), n in sorted(self.band_changes.items(), key=lambda kv: (-kv[1], kv[0]))]
        if self.movers:
            lines.append("Biggest movers:")
        for m in self.movers:
            lines.append(
                f"  {m.who()}: {_fmt(m.before)} ({m.band_before}) -> {_fmt(m.after)} ({m.band_after})"
                + (f"  because {', '.join(m.reasons)}" if m.reasons else "")
            )
        if self.changed_keys:
            lines.append("Changed in the YAML:")
            lines += [f"  {change}" for change in self.changed_keys]
        return "\n".join(lines + self.more)


def changed_keys(current: dict, proposed: dict, prefix: str = "") -> list[str]:
    """Every key path whose value differs between two config dumps, with old and new values.
    Scorecards are matched by name, so reordering them is not reported as a change of every key."""
    out = []
    for key in sorted(set(current) | set(proposed), key=str):
        path = f"{prefix}.{key}" if prefix else str(key)
        before, after = current.get(key, _ABSENT), proposed.get(key, _ABSENT)
        if isinstance(before, list) and isinstance(after, list) and all(
                isinstance(x, dict) and "name" in x for x in before + after):
            before = {x["name"]: x for x in before}
            after = {x["name"]: x for x in after}
        if isinstance(before, dict) and isinstance(after, dict):
            out += changed_keys(before, after, path)
        elif before != after:
            out.append(f"{path}: {_show(before)} -> {_show(after)}")
    return out


_ABSENT = object()


def _show(value) -> str:
    return "(absent)" if value is _ABSENT else repr(value)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.1f}"


class NothingToCompare(RuntimeError):
    """The warehouse holds no KPI day to score; the message says what to run first."""


Also = Callable[[psycopg.Connection, date, ScorecardsFile, str], list[str]]
"""``also(conn, day, candidate_config, candidate_version) -> lines``, run with the candidate's scores in place."""


def dry_run(conn: psycopg.Connection, candidate: Path, day: date | None = None, top: int = 10,
            also: Also | None = None) -> DryRun:
    current, current_version = load_scorecards()
    proposed, candidate_version = load_scorecards(candidate)
    with conn.transaction(force_rollback=True):
        latest = config_versions.latest_scoring_run(conn)
        if day is None and latest is not None:
            day = latest.day  # the day today's tasks come from
        if day is None:
            day = fetch_one_sql_file(conn, "scoring/dry_run/latest_kpi_day.sql")["day"]
            if day is None:
                raise NothingToCompare("marts.account_daily_kpis is empty: run build_health_scores first")
        register_version(conn, current, current_version, scorecards_path().read_text(encoding="utf-8"))
        register_version(conn, proposed, candidate_version, candidate.read_text(encoding="utf-8"))
        score_day(conn, day, current, current_version)
        score_day(conn, day, proposed, candidate_version)
        params = {"day": day, "cur": current_version, "cand": candidate_version}
        pairs = fetch_sql_file(conn, "scoring/dry_run/score_pairs.sql", params)
        band_changes: dict[tuple[str, str], int] = {}
        for p in pairs:
            if p["band_before"] != p["band_after"]:
                key = (p["band_before"], p["band_after"])
                band_changes[key] = band_changes.get(key, 0) + 1
        ranked = sorted(
            (p for p in pairs if p["score_before"] is not None and p["score_after"] is not None),
            key=lambda p: (-abs(p["score_after"] - p["score_before"]), p["account_id"]),
        )[:top]
        deltas = fetch_sql_file(conn, "scoring/dry_run/measure_deltas.sql",
                                {**params, "accounts": [p["account_id"] for p in ranked]})
        reasons: dict[str, list[str]] = {}
        for d in deltas:
            if abs(d["delta"]) >= 0.05:
                reasons.setdefault(d["account_id"], []).append(f"{d['measure']} {d['delta']:+.1f}")
        movers = [
            Mover(p["account_id"], float(p["score_before"]), float(p["score_after"]), p["band_before"],
                  p["band_after"], reasons.get(p["account_id"], []), p["account_name"], p["csm_name"],
                  float(p["arr"]) if p["arr"] is not None else None)
            for p in ranked
        ]
        more = also(conn, day, proposed, candidate_version) if also else []
    keys = changed_keys(current.model_dump(mode="json"), proposed.model_dump(mode="json"))
    return DryRun(day, current_version, candidate_version, len(pairs), band_changes, movers, keys, more)
