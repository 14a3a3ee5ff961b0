"""Evaluate the playbooks for one day and write ``marts.csm_tasks``, exactly once.

For each play and account: fire (a new open task) when the conditions hold,
no open task exists for the pair, and the play's cooldown since the last
closed one has passed; close an open task whose condition has cleared (when
the play auto-closes). The partial unique index on open tasks makes retries,
reruns, backfills and concurrent runs unable to create a second one. A play
that reads a feed the quality gate marked stale today does nothing.

Who an account is and who owns it come from ``marts.accounts`` as of the day
(never staging); the SQL lives in ``include/sql/playbooks/``.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

import psycopg
from customer_health.config.playbooks import Play, PlaybooksFile
from customer_health.config.templates import render
from customer_health.contracts.tasks import FIVE_W1H
from customer_health.playbooks.conditions import AccountFacts, evaluator, segment_matches, streams_read
from customer_health.warehouse.sqlfiles import fetch_sql_file, fetch_sql_file_many, run_sql_file_many

log = logging.getLogger(__name__)


class PlayRenderError(RuntimeError):
    """A play's template failed for a real account: the message names the play and the account."""


@dataclass(frozen=True)
class PlannedTask:
    """A task a preview would create or close: which play, which account, who owns it, why."""

    action: str  # "create" | "close"
    play: str
    account_id: str
    account_name: str | None
    csm: str | None
    reason: str


@dataclass
class PlaybookRun:
    """What one evaluation did (or, with ``preview``, would do): counts per play, errors, planned tasks."""

    day: date
    created: dict[str, int] = field(default_factory=dict)
    auto_closed: dict[str, int] = field(default_factory=dict)
    suppressed: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    preview: bool = False
    planned: list[PlannedTask] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict:
        """The run as the DAG task returns it (XCom): JSON-safe."""
        return {"day": self.day.isoformat(), "preview": self.preview, "created": self.created,
                "auto_closed": self.auto_closed, "suppressed": self.suppressed, "errors": self.errors,
                "note": self.note}


def run_playbooks(
    conn: psycopg.Connection, day: date, config: PlaybooksFile, version: str, health_version: str, cmi_version: str,
    *, preview: bool = False,
) -> PlaybookRun:
    """Evaluate every play for ``day``; write the tasks, or (``preview``) only list them."""
    run = PlaybookRun(day, preview=preview)
    with conn.transaction():
        if not preview:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('customer_health.playbooks'))")
        stale = {r["stream"] for r in fetch_sql_file(conn, "playbooks/stale_streams.sql", {"day": day})}
        accounts = _facts(conn, day, config, health_version, cmi_version)
        contexts = _contexts(conn, day, health_version, accounts)
        for play in config.plays:
            blocked = streams_read(play.when) & stale
            if blocked:
                run.suppressed[play.name] = f"stale feed(s) today: {', '.join(sorted(blocked))}"
                log.warning("play %s suppressed: %s", play.name, run.suppressed[play.name])
                continue
            firing = {}
            reason_of = evaluator(play.when)
            for facts in accounts.values():
                if segment_matches(play, facts):
                    reason = reason_of(facts)
                    if reason is not None:
                        firing[facts.account_id] = reason
            run.created[play.name] = _create(conn, run, play, config, version, firing, contexts, health_version)
            if play.auto_close if play.auto_close is not None else config.defaults.auto_close:
                run.auto_closed[play.name] = _auto_close(conn, run, play, firing, list(accounts), contexts)
    if run.errors:
        log.error("%d task(s) not created because a template failed (the rest of the run was written):\n%s",
                  len(run.errors), "\n".join(run.errors))
    return run


def _facts(conn, day: date, config: PlaybooksFile, health_version: str, cmi_version: str) -> dict[str, AccountFacts]:
    params = {"day": day, "health_version": health_version, "cmi_version": cmi_version}
    rows = fetch_sql_file(conn, "playbooks/facts.sql", params)
    windows = {p.when.score_drop.within_days for p in config.plays if p.when.score_drop}
    best: dict[int, dict[str, float]] = {
        days: {r["account_id"]: float(r["best_score"])
               for r in fetch_sql_file(conn, "playbooks/best_recent_scores.sql", {**params, "within_days": days})}
        for days in windows
    }
    return {
        r["account_id"]: AccountFacts(
            account_id=r["account_id"], quadrant=r["quadrant"], band=r["health_band"],
            score=_float(r["health_score"]), band_yesterday=r["band_yesterday"],
            best_recent_score={d: best[d].get(r["account_id"]) for d in windows},
            kpis=r["kpis"], cmi=_float(r["cmi"]), cmi_stale=r["cmi_stale"],
        )
        for r in rows
    }


def _float(value):
    return None if value is None else float(value)


def _contexts(conn, day: date, health_version: str, accounts: dict) -> dict[str, dict]:
    """Template variables per account: names, CSM, score explanation, maturity."""
    contexts = {}
    for r in fetch_sql_file(conn, "playbooks/contexts.sql", {"day": day, "health_version": health_version}):
        if r["account_id"] not in accounts:
            continue
        contexts[r["account_id"]] = {
            "account": {"id": r["account_id"], "name": r["name"], "industry": r["industry"], "region": r["region"],
                        "employees": r["employees"], "lifecycle_stage": r["lifecycle_stage"],
                        "arr": _float(r["arr"]),
                        "renewal_date": r["renewal_date"].isoformat() if r["renewal_date"] else None,
                        "csm_id": r["csm_owner_id"], "csm_email": r["csm_email"],
                        "csm_name": r["csm_name"] or "the CS team"},
            "kpis": accounts[r["account_id"]].kpis,
            "score": {"value": _num(r["score"]), "band": r["band"], "change_7d": _num(r["change_7d"]),
                      "change_30d": _num(r["change_30d"]), "scorecard": r["scorecard"],
                      "top_drivers": None},  # read for the accounts a task is rendered for (_attach_drivers)
            "cmi": {"value": _num(r["cmi"]),
                    "assessed_at": r["cmi_assessed_on"].isoformat() if r["cmi_assessed_on"] else None,
                    "stale": r["cmi_stale"]},
            "quadrant": r["quadrant"],
            "day": day.isoformat(),
        }
    return contexts


def _attach_drivers(conn, day: date, health_version: str, contexts: dict[str, dict], account_ids: set[str]) -> None:
    """``score.top_drivers`` of the accounts a task is about to be rendered for: the three measures that
    moved the score most in 7 days. Read for those accounts only, once each (a few key lookups in the view
    marts.health_score_changes, V095), not for every scored account: a day at 20,000 accounts renders ~1,000
    tasks, and the plays fire for many more accounts that their cooldown then blocks."""
    wanted = sorted(a for a in account_ids if a in contexts and contexts[a]["score"]["top_drivers"] is None)
    if not wanted:
        return
    for account_id in wanted:
        contexts[account_id]["score"]["top_drivers"] = []  # no row: nothing moved, or no score 7 days before
    for r in fetch_sql_file(conn, "playbooks/drivers.sql", {"day": day, "health_version": health_version,
                                                             "accounts": wanted}):
        contexts[r["account_id"]]["score"]["top_drivers"] = r["drivers"]


def _num(value):
    return None if value is None else round(float(value), 1)


def _render(play: Play, text: str, context: dict) -> str:
    try:
        return render(text, context)
    except Exception as exc:  # noqa: BLE001 - any failure of one account's data is that account's, reported below
        raise PlayRenderError(
            f"playbooks.yml: play {play.name!r} could not render for account {context['account']['id']}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _create(conn, run: PlaybookRun, play: Play, config: PlaybooksFile, version: str, firing: dict[str, str],
            contexts, health_version: str) -> int:
    if not firing:
        return 0
    day = run.day
    cooldown = play.cooldown_days if play.cooldown_days is not None else config.defaults.cooldown_days
    blocked = {r["account_id"] for r in fetch_sql_file(
        conn, "playbooks/cooldown_blocked.sql", {"play": play.name, "day": day, "cooldown_days": cooldown})}
    created = 0  # previewed
    inserts = []  # (insert_task parameters, the history line's detail) per task to write
    holdout = play.holdout if play.holdout is not None else config.defaults.holdout
    _attach_drivers(conn, day, health_version, contexts, set(firing) - blocked)
    for account_id, reason in sorted(firing.items()):
        if account_id in blocked or account_id not in contexts:
            continue
        held_out = in_holdout(play.name, account_id, holdout)
        context = {**contexts[account_id], "reason": reason,
                   "due_date": (day + timedelta(days=play.task.due_in_days)).isoformat()}
        owner = context["account"]
        try:
            title, body = _render(play, play.task.title, context), _render(play, play.task.body, context)
            five = {k: _render(play, getattr(play.task, k), context) for k in FIVE_W1H}
        except PlayRenderError as exc:
            run.errors.append(str(exc))
            continue
        if run.preview:
            run.planned.append(PlannedTask("create", play.name, account_id, owner["name"], owner["csm_name"], reason))
            created += 1
            continue
        inserts.append(({
            "play": play.name, "account": account_id, "key": f"{play.name}/{account_id}", "day": day,
            "version": version, "priority": play.task.priority, "title": title, "body": body,
            "reason": reason, "owner_id": owner["csm_id"], "owner_email": owner["csm_email"],
            "queue": None if owner["csm_email"] else config.defaults.fallback_queue,
            "due": day + timedelta(days=play.task.due_in_days),
            "channels": [] if held_out else list(play.task.channels or config.defaults.channels),
            "held_out": held_out,
            "five": json.dumps(five, ensure_ascii=False),
        }, {"reason": reason, "held_out": held_out}))
    # One pipelined batch for the play's tasks and one for their history lines: a round trip per task
    # and line cost 2 s a day at 20,000 accounts (~1,000 tasks).
    inserted = fetch_sql_file_many(conn, "playbooks/insert_task.sql", [params for params, _ in inserts])
    events = [{"task_id": rows[0]["task_id"], "event": "created", "detail": json.dumps(detail, ensure_ascii=False)}
              for rows, (_, detail) in zip(inserted, inserts, strict=True) if rows]
    run_sql_file_many(conn, "playbooks/task_event.sql", events)
    return created + len(events)


def in_holdout(play: str, account_id: str, share: float) -> bool:
    """Is this account in the play's control group? A hash of play and account, so the same account stays
    in (or out of) a play's holdout on every run and every machine, and plays draw independently."""
    if share <= 0:
        return False
    digest = hashlib.sha256(f"{play}/{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _auto_close(conn, run: PlaybookRun, play: Play, firing: dict[str, str], evaluated: list[str], contexts) -> int:
    """Close open tasks of accounts evaluated today whose condition no longer holds (a preview only lists them)."""
    params = {"reason": play.description or play.name, "play": play.name, "evaluated": evaluated,
              "firing": list(firing)}
    if run.preview:
        closing = fetch_sql_file(conn, "playbooks/would_auto_close.sql", params)
        for row in closing:
            who = contexts.get(row["account_id"], {}).get("account", {})
            run.planned.append(PlannedTask("close", play.name, row["account_id"], who.get("name"), who.get("csm_name"),
                                           "condition cleared"))
        return len(closing)
    closed = fetch_sql_file(conn, "playbooks/auto_close.sql", params)
    run_sql_file_many(conn, "playbooks/task_event.sql",  # one pipelined batch, not a round trip per task
                      [{"task_id": row["task_id"], "event": "auto_closed", "detail": "{}"} for row in closed])
    return len(closed)
