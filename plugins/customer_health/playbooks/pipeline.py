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
from datetime import date

from customer_health.config.loader import load_yaml_text, read_config
from customer_health.config.playbooks import PlaybooksFile, playbooks_path
from customer_health.playbooks.engine import PlaybookRun, run_playbooks
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
