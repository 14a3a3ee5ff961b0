"""Evaluate the playbooks for one day and write ``marts.csm_tasks``, exactly once.

For each play and account: fire (a new open task) when the conditions hold,
no open task exists for the pair, and the play's cooldown since the last
closed one has passed; close an open task whose condition has cleared (when
the play auto-closes). The partial unique index on open tasks makes retries,
reruns, backfills and concurrent runs unable to create a second one. A play
that reads a feed the quality gate marked stale today does nothing.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

import psycopg
from jinja2 import TemplateError

from customer_health.config.playbooks import TEMPLATES, Play, PlaybooksFile
from customer_health.contracts.tasks import FIVE_W1H
from customer_health.playbooks.conditions import AccountFacts, evaluate, segment_matches, streams_read

log = logging.getLogger(__name__)


class PlayRenderError(RuntimeError):
    """A play's template failed for a real account: the message names the play and the account."""


@dataclass
class PlaybookRun:
    day: date
    created: dict[str, int] = field(default_factory=dict)
    auto_closed: dict[str, int] = field(default_factory=dict)
    suppressed: dict[str, str] = field(default_factory=dict)


def run_playbooks(
    conn: psycopg.Connection, day: date, config: PlaybooksFile, version: str, health_version: str, cmi_version: str
) -> PlaybookRun:
    run = PlaybookRun(day)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('customer_health.playbooks'))")
        stale = {s for (s,) in conn.execute("SELECT stream FROM meta.source_quality WHERE day = %s AND stale", [day])}
        accounts = _facts(conn, day, config, health_version, cmi_version)
        contexts = _contexts(conn, day, health_version, accounts)
        for play in config.plays:
            blocked = streams_read(play.when) & stale
            if blocked:
                run.suppressed[play.name] = f"stale feed(s) today: {', '.join(sorted(blocked))}"
                log.warning("play %s suppressed: %s", play.name, run.suppressed[play.name])
                continue
            firing = {}
            for facts in accounts.values():
                if segment_matches(play, facts):
                    reason = evaluate(play.when, facts)
                    if reason is not None:
                        firing[facts.account_id] = reason
            run.created[play.name] = _create(conn, day, play, config, version, firing, contexts)
            if play.auto_close if play.auto_close is not None else config.defaults.auto_close:
                run.auto_closed[play.name] = _auto_close(conn, play, firing, list(accounts))
    return run


def _facts(conn, day: date, config: PlaybooksFile, health_version: str, cmi_version: str) -> dict[str, AccountFacts]:
    params = {"day": day, "hv": health_version, "cv": cmi_version}
    rows = conn.execute(
        """SELECT q.account_id, q.quadrant, q.health_band, q.health_score, q.cmi, q.cmi_stale,
                  y.band AS band_yesterday, to_jsonb(k) AS kpis
           FROM marts.account_quadrants AS q
           JOIN marts.account_daily_kpis AS k ON k.account_id = q.account_id AND k.day = q.day
           LEFT JOIN marts.health_scores AS y
             ON y.account_id = q.account_id AND y.day = q.day - 1 AND y.config_version = q.health_version
           WHERE q.day = %(day)s AND q.health_version = %(hv)s AND q.cmi_version = %(cv)s""",
        params,
    ).fetchall()
    windows = {p.when.score_drop.within_days for p in config.plays if p.when.score_drop}
    best: dict[int, dict[str, float]] = {}
    for days in windows:
        best[days] = {
            a: float(s) for a, s in conn.execute(
                """SELECT account_id, max(score) FROM marts.health_scores
                   WHERE config_version = %(hv)s AND day >= %(day)s::date - %(n)s AND day < %(day)s
                     AND score IS NOT NULL
                   GROUP BY 1""",
                {**params, "n": days},
            )
        }
    return {
        r[0]: AccountFacts(
            account_id=r[0], quadrant=r[1], band=r[2], score=None if r[3] is None else float(r[3]),
            band_yesterday=r[6], best_recent_score={d: best[d].get(r[0]) for d in windows},
            kpis=r[7], cmi=None if r[4] is None else float(r[4]), cmi_stale=r[5],
        )
        for r in rows
    }


def _contexts(conn, day: date, health_version: str, accounts: dict) -> dict[str, dict]:
    """Template variables per account: names, CSM, score explanation, maturity."""
    rows = conn.execute(
        """SELECT a.account_id, a.name, a.industry, a.region, a.employees, a.lifecycle_stage,
                  o.owner_id, o.email, o.name AS csm_name,
                  h.score, h.band, h.change_7d, h.change_30d, h.scorecard,
                  q.cmi, q.cmi_assessed_at::date, q.cmi_stale, q.quadrant,
                  (SELECT coalesce(jsonb_agg(jsonb_build_object('measure', c.measure, 'change', round(c.contribution_change, 1))
                                             ORDER BY abs(c.contribution_change) DESC), '[]')
                   FROM (SELECT * FROM marts.health_score_changes c
                         WHERE c.account_id = a.account_id AND c.day = %(day)s AND c.config_version = %(hv)s
                           AND c.horizon_days = 7 AND c.contribution_change <> 0
                         ORDER BY abs(c.contribution_change) DESC LIMIT 3) AS c) AS drivers
           FROM staging.crm_accounts AS a
           JOIN marts.health_scores AS h ON h.account_id = a.account_id AND h.day = %(day)s AND h.config_version = %(hv)s
           JOIN marts.account_quadrants AS q ON q.account_id = a.account_id AND q.day = %(day)s AND q.health_version = %(hv)s
           LEFT JOIN staging.crm_owners AS o ON o.owner_id = a.csm_owner_id""",
        {"day": day, "hv": health_version},
    )
    contexts = {}
    for r in rows:
        if r[0] not in accounts:
            continue
        contexts[r[0]] = {
            "account": {"id": r[0], "name": r[1], "industry": r[2], "region": r[3], "employees": r[4],
                        "lifecycle_stage": r[5], "csm_id": r[6], "csm_email": r[7], "csm_name": r[8] or "the CS team"},
            "kpis": accounts[r[0]].kpis,
            "score": {"value": _num(r[9]), "band": r[10], "change_7d": _num(r[11]), "change_30d": _num(r[12]),
                      "scorecard": r[13], "top_drivers": r[18]},
            "cmi": {"value": _num(r[14]), "assessed_at": r[15].isoformat() if r[15] else None, "stale": r[16]},
            "quadrant": r[17],
            "day": day.isoformat(),
        }
    return contexts


def _num(value):
    return None if value is None else round(float(value), 1)


def _render(play: Play, text: str, context: dict) -> str:
    try:
        return TEMPLATES.from_string(text).render(context).strip()
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:  # e.g. a KPI that is None today
        raise PlayRenderError(
            f"playbooks.yml: play {play.name!r} could not render for account {context['account']['id']}: {exc}"
        ) from exc


def _create(conn, day: date, play: Play, config: PlaybooksFile, version: str, firing: dict[str, str], contexts) -> int:
    if not firing:
        return 0
    cooldown = play.cooldown_days if play.cooldown_days is not None else config.defaults.cooldown_days
    blocked = {
        a for (a,) in conn.execute(
            """SELECT account_id FROM marts.csm_tasks
               WHERE play = %s AND (status = 'open' OR closed_at >= %s::date - %s)""",
            [play.name, day, cooldown],
        )
    }
    created = 0
    for account_id, reason in sorted(firing.items()):
        if account_id in blocked or account_id not in contexts:
            continue
        context = {**contexts[account_id], "reason": reason,
                   "due_date": (day + timedelta(days=play.task.due_in_days)).isoformat()}
        owner = context["account"]
        row = conn.execute(
            """INSERT INTO marts.csm_tasks
                   (play, account_id, dedup_key, day, playbooks_version, priority, title, body, reason,
                    owner_id, owner_email, queue, due_date, channels, five_w1h)
               VALUES (%(play)s, %(account)s, %(key)s, %(day)s, %(version)s, %(priority)s, %(title)s, %(body)s,
                       %(reason)s, %(owner_id)s, %(owner_email)s, %(queue)s, %(due)s, %(channels)s, %(five)s)
               ON CONFLICT (dedup_key) WHERE status = 'open' DO NOTHING
               RETURNING task_id""",
            {
                "play": play.name, "account": account_id, "key": f"{play.name}/{account_id}", "day": day,
                "version": version, "priority": play.task.priority,
                "title": _render(play, play.task.title, context), "body": _render(play, play.task.body, context),
                "reason": reason, "owner_id": owner["csm_id"], "owner_email": owner["csm_email"],
                "queue": None if owner["csm_email"] else config.defaults.fallback_queue,
                "due": day + timedelta(days=play.task.due_in_days),
                "channels": list(play.task.channels or config.defaults.channels),
                "five": json.dumps({k: _render(play, getattr(play.task, k), context) for k in FIVE_W1H}, ensure_ascii=False),
            },
        ).fetchone()
        if row:
            conn.execute(
                "INSERT INTO marts.csm_task_history (task_id, event, detail) VALUES (%s, 'created', %s)",
                [row[0], json.dumps({"reason": reason}, ensure_ascii=False)],
            )
            created += 1
    return created


def _auto_close(conn, play: Play, firing: dict[str, str], evaluated: list[str]) -> int:
    """Close open tasks of accounts evaluated today whose condition no longer holds."""
    closed = conn.execute(
        """UPDATE marts.csm_tasks SET status = 'auto_closed', closed_at = now(),
                  close_reason = 'condition cleared: ' || %s
           WHERE play = %s AND status = 'open' AND account_id = ANY (%s) AND NOT (account_id = ANY (%s))
           RETURNING task_id""",
        [play.description or play.name, play.name, evaluated, list(firing)],
    ).fetchall()
    for (task_id,) in closed:
        conn.execute("INSERT INTO marts.csm_task_history (task_id, event) VALUES (%s, 'auto_closed')", [task_id])
    return len(closed)
