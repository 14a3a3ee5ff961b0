"""The playbook steps as the DAG and the CLI run them.

``register_playbooks`` validates playbooks.yml and records it in
``meta.config_versions`` (the DAG's first step); ``create_tasks`` evaluates
the plays registered under that version against the quadrants of the latest
scoring run (``meta.scoring_runs``), under the scoring and CMI versions that run
used. Nothing here re-reads scorecards.yml or cmi.yml: editing them after the
scores were made cannot change which scores the tasks come from.
"""
from __future__ import annotations

from datetime import date

from customer_health.config.loader import load_yaml_text, read_config
from customer_health.config.playbooks import PlaybooksFile, playbooks_path
from customer_health.playbooks.engine import PlaybookRun, run_playbooks
from customer_health.warehouse import config_versions
from customer_health.warehouse.db import connect


def register_playbooks(warehouse_url: str | None = None) -> str:
    """Validate playbooks.yml and record it in the warehouse; returns its version."""
    _, version, text = read_config(playbooks_path(), PlaybooksFile)
    with connect(warehouse_url) as conn, conn.transaction():
        config_versions.register(conn, "playbooks", version, text)
    return version


def create_tasks(day: date | None = None, warehouse_url: str | None = None,
                 playbooks_version: str | None = None) -> PlaybookRun:
    """Evaluate the plays for ``day`` (default: the day of the latest scoring run) under the run's versions."""
    playbooks_version = playbooks_version or register_playbooks(warehouse_url)
    with connect(warehouse_url) as conn:
        scored = config_versions.latest_scoring_run(conn, day)
        if scored is None:
            raise RuntimeError(
                f"no scoring run {'covers ' + day.isoformat() if day else 'has finished'} yet: run build_health_scores first"
            )
        stored = config_versions.registered(conn, "playbooks", playbooks_version)
        playbooks = load_yaml_text(stored["source_yaml"], PlaybooksFile,
                                   f"meta.config_versions (playbooks {playbooks_version})")
        return run_playbooks(conn, day or scored.day, playbooks, playbooks_version,
                             scored.scoring_version, scored.cmi_version)
