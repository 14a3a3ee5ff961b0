"""The playbook step as the DAG and the CLI run it: today's plays with today's config versions."""
from __future__ import annotations

from datetime import date

from customer_health.config.cmi import load_cmi
from customer_health.config.playbooks import load_playbooks
from customer_health.config.scorecards import load_scorecards
from customer_health.playbooks.engine import PlaybookRun, run_playbooks
from customer_health.warehouse.db import connect


def create_tasks(day: date | None = None, warehouse_url: str | None = None) -> PlaybookRun:
    """Evaluate the plays for ``day`` (default: the latest day with quadrants under the current configs)."""
    playbooks, version = load_playbooks()
    _, health_version = load_scorecards()
    _, cmi_version = load_cmi()
    with connect(warehouse_url) as conn:
        if day is None:
            (day,) = conn.execute(
                "SELECT max(day) FROM marts.account_quadrants WHERE health_version = %s AND cmi_version = %s",
                [health_version, cmi_version],
            ).fetchone()
            if day is None:
                raise RuntimeError("no quadrants under the current scorecards and cmi.yml yet: run build_health_scores first")
        return run_playbooks(conn, day, playbooks, version, health_version, cmi_version)
