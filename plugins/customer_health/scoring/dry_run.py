"""Review a scorecard change before merging it: who would change band, who moves most, and why.

Both the current and the candidate scorecards score the same day inside one
transaction that is always rolled back, so nothing is written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg

from customer_health.config.scorecards import load_scorecards, scorecards_path
from customer_health.scoring.engine import register_version, score_day


@dataclass
class Mover:
    account_id: str
    before: float | None
    after: float | None
    band_before: str
    band_after: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class DryRun:
    day: date
    current_version: str
    candidate_version: str
    accounts: int
    band_changes: dict[tuple[str, str], int]
    movers: list[Mover]

    def render(self) -> str:
        changed = sum(self.band_changes.values())
        lines = [
            f"Dry run for {self.day}: current {self.current_version} vs candidate {self.candidate_version}",
            f"{changed} of {self.accounts} accounts would change band" + (":" if changed else "."),
        ]
        lines += [f"  {a} -> {b}: {n}" for (a, b), n in sorted(self.band_changes.items(), key=lambda kv: -kv[1])]
        if self.movers:
            lines.append("Biggest movers:")
        for m in self.movers:
            lines.append(
                f"  {m.account_id}: {_fmt(m.before)} ({m.band_before}) -> {_fmt(m.after)} ({m.band_after})"
                + (f"  because {', '.join(m.reasons)}" if m.reasons else "")
            )
        return "\n".join(lines)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def dry_run(conn: psycopg.Connection, candidate: Path, day: date | None = None, top: int = 10) -> DryRun:
    current, current_version = load_scorecards()
    proposed, candidate_version = load_scorecards(candidate)
    with conn.transaction(force_rollback=True):
        if day is None:
            (day,) = conn.execute("SELECT max(day) FROM marts.account_daily_kpis").fetchone()
            if day is None:
                raise RuntimeError("marts.account_daily_kpis is empty: run build_health_scores first")
        register_version(conn, current, current_version, scorecards_path().read_text(encoding="utf-8"))
        register_version(conn, proposed, candidate_version, candidate.read_text(encoding="utf-8"))
        score_day(conn, day, current, current_version)
        score_day(conn, day, proposed, candidate_version)
        params = {"day": day, "cur": current_version, "cand": candidate_version}
        pairs = conn.execute(
            """SELECT c.account_id, c.score, n.score, c.band, n.band
               FROM marts.health_scores c JOIN marts.health_scores n USING (account_id, day)
               WHERE c.day = %(day)s AND c.config_version = %(cur)s AND n.config_version = %(cand)s""",
            params,
        ).fetchall()
        band_changes: dict[tuple[str, str], int] = {}
        for _, _, _, before, after in pairs:
            if before != after:
                band_changes[(before, after)] = band_changes.get((before, after), 0) + 1
        ranked = sorted(
            (p for p in pairs if p[1] is not None and p[2] is not None), key=lambda p: -abs(p[2] - p[1])
        )[:top]
        movers = []
        for account_id, before, after, band_before, band_after in ranked:
            reasons = conn.execute(
                """SELECT coalesce(n.measure, c.measure), coalesce(n.contribution, 0) - coalesce(c.contribution, 0) AS delta
                   FROM (SELECT * FROM marts.health_score_components WHERE account_id = %(a)s AND day = %(day)s AND config_version = %(cur)s) c
                   FULL JOIN (SELECT * FROM marts.health_score_components WHERE account_id = %(a)s AND day = %(day)s AND config_version = %(cand)s) n
                     USING (measure)
                   ORDER BY abs(coalesce(n.contribution, 0) - coalesce(c.contribution, 0)) DESC LIMIT 3""",
                {**params, "a": account_id},
            ).fetchall()
            movers.append(
                Mover(account_id, float(before), float(after), band_before, band_after,
                      [f"{m} {d:+.1f}" for m, d in reasons if abs(d) >= 0.05])
            )
    return DryRun(day, current_version, candidate_version, len(pairs), band_changes, movers)
