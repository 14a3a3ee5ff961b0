"""The playbook steps as the DAG and the CLI run them.

``register_playbooks`` validates playbooks.yml and records it in
``meta.config_versions`` (the DAG's first step); ``create_tasks`` evaluates
the plays registered under that version against the quadrants of the latest
scoring run (``meta.scoring_runs``), under the scoring and CMI versions that run
used. Nothing here re-reads scorecards.yml or cmi.yml: editing them after the
scores were made cannot change which scores the tasks come from.

Live tasks are created and auto-closed only from the latest scored day. A
past day is evaluated as a preview that writes nothing: its scores are old
news, and tasks made (or closed) from them would be wrong today.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

import psycopg

from customer_health.config.cmi import CmiFile
from customer_health.config.loader import load_yaml_text, read_config
from customer_health.config.playbooks import PlaybooksFile, load_playbooks, playbooks_path
from customer_health.config.scorecards import ScorecardsFile
from customer_health.playbooks.engine import PlannedTask, PlaybookRun, run_playbooks
from customer_health.scoring.engine import score_day
from customer_health.scoring.maturity import assign_quadrants
from customer_health.warehouse import config_versions
from customer_health.warehouse.db import connect

log = logging.getLogger(__name__)


def register_playbooks(warehouse_url: str | None = None) -> str:
    """Validate playbooks.yml and record it in the warehouse; returns its version."""
    _, version, text = read_config(playbooks_path(), PlaybooksFile)
    with connect(warehouse_url) as conn, conn.transaction():
        config_versions.register(conn, "playbooks", version, text)
    return version


def create_tasks(day: date | None = None, warehouse_url: str | None = None,
                 playbooks_version: str | None = None) -> PlaybookRun:
    """Evaluate the plays for the latest scored day under its run's versions and write the tasks; for an
    earlier ``day``, the same evaluation as a preview that writes nothing (the run says so)."""
    playbooks_version = playbooks_version or register_playbooks(warehouse_url)
    with connect(warehouse_url) as conn:
        latest = config_versions.latest_scoring_run(conn)
        scored = config_versions.latest_scoring_run(conn, day) if day else latest
        if scored is None:
            raise RuntimeError(
                f"no scoring run {'covers ' + day.isoformat() if day else 'has finished'} yet: run build_health_scores first"
            )
        stored = config_versions.registered(conn, "playbooks", playbooks_version)
        playbooks = load_yaml_text(stored["source_yaml"], PlaybooksFile,
                                   f"meta.config_versions (playbooks {playbooks_version})")
        day = day or scored.day
        preview = day < latest.day
        run = run_playbooks(conn, day, playbooks, playbooks_version, scored.scoring_version, scored.cmi_version,
                            preview=preview)
    if preview:
        run.note = (f"{day} is before the latest scored day {latest.day}: evaluated as a preview, nothing written "
                    f"(would create {sum(run.created.values())}, close {sum(run.auto_closed.values())}); "
                    "live tasks come only from the latest scored day")
        log.warning("%s", run.note)
    return run


def preview_candidate_tasks(conn: psycopg.Connection, day: date, candidate: ScorecardsFile, candidate_version: str,
                            examples: int = 5) -> list[str]:
    """The review tool's task section: which CSM tasks the candidate scorecards would create and close on the
    latest scored day, against the live scorecards, with today's open tasks and the live playbooks.yml.

    Runs inside the review tool's rolled-back transaction, where the candidate has scored ``day``: it also scores
    the day before (band_changed_to reads yesterday's band) and puts the candidate's scores in quadrants with the
    live CMI, then both evaluations run as previews. score_drop sees the candidate's earlier days only where a
    backtest stored them."""
    latest = config_versions.latest_scoring_run(conn)
    if latest is None:
        return ["CSM tasks: no scoring run in meta.scoring_runs yet (run build_health_scores): no task preview"]
    if day != latest.day:
        return [f"CSM tasks: previewed only for the latest scored day ({latest.day}); this dry run is of {day}"]
    playbooks, playbooks_version = load_playbooks()
    stored = config_versions.registered(conn, "cmi", latest.cmi_version)
    cmi = load_yaml_text(stored["source_yaml"], CmiFile, f"meta.config_versions (cmi {latest.cmi_version})")
    score_day(conn, day - timedelta(days=1), candidate, candidate_version)
    assign_quadrants(conn, day, cmi, latest.cmi_version, candidate_version)
    live = run_playbooks(conn, day, playbooks, playbooks_version, latest.scoring_version, latest.cmi_version,
                         preview=True)
    proposed = run_playbooks(conn, day, playbooks, playbooks_version, candidate_version, latest.cmi_version,
                             preview=True)
    lines = [
        f"CSM tasks on {day}, the latest scored day (playbooks.yml {playbooks_version}, against the tasks open now):",
        f"  live scorecards: would create {_count(live, 'create')}, close {_count(live, 'close')}; "
        f"candidate: would create {_count(proposed, 'create')}, close {_count(proposed, 'close')}",
    ]
    for action, verb in (("create", "created"), ("close", "closed")):
        mine, theirs = _planned(proposed, action), _planned(live, action)
        for label, only in ((f"{verb} only with the candidate", mine.keys() - theirs.keys()),
                            (f"{verb} only with the live scorecards", theirs.keys() - mine.keys())):
            if not only:
                continue
            shown = sorted((mine | theirs)[key] for key in only)
            lines.append(f"  {label} ({len(shown)}):")
            lines += [f"    {_who(task)}" for task in shown[:examples]]
            if len(shown) > examples:
                lines.append(f"    ... and {len(shown) - examples} more")
    for run, which in ((live, "live"), (proposed, "candidate")):
        lines += [f"  {which}: play {play} suppressed ({why})" for play, why in sorted(run.suppressed.items())]
        lines += [f"  {which}: {error}" for error in run.errors]
    return lines


def _count(run: PlaybookRun, action: str) -> int:
    return sum(1 for task in run.planned if task.action == action)


def _planned(run: PlaybookRun, action: str) -> dict[tuple[str, str], tuple]:
    return {(t.play, t.account_id): (t.play, t.account_name or "", t.account_id, t) for t in run.planned
            if t.action == action}


def _who(row: tuple) -> str:
    task: PlannedTask = row[-1]
    name = f"{task.account_name} ({task.account_id})" if task.account_name else task.account_id
    return f"{task.play}: {name}, CSM {task.csm or '(none)'}: {task.reason}"
