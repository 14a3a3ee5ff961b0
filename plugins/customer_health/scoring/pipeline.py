"""The daily scoring step as the DAG and the CLI run it: KPIs, scores, CMI, quadrants.

``history_days`` > 0 recomputes the KPI window set-based and scores each day
in it in order (first runs, backfills, a demo); otherwise only ``day`` is
built incrementally and scored.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

from customer_health.config.cmi import load_cmi
from customer_health.config.scorecards import load_scorecards, scorecards_path
from customer_health.scoring.engine import DayScores, register_version, score_day
from customer_health.scoring.maturity import assign_quadrants, score_cmi
from customer_health.warehouse.db import connect

log = logging.getLogger(__name__)


def build_and_score(day: date, history_days: int = 0, warehouse_url: str | None = None) -> list[DayScores]:
    from customer_health.kpis import build_kpis, rebuild_kpis  # noqa: PLC0415 - keeps DAG parsing light

    config, version = load_scorecards()
    start = day - timedelta(days=history_days)
    with connect(warehouse_url) as conn:
        with conn.transaction():
            if register_version(conn, config, version, scorecards_path().read_text(encoding="utf-8")):
                log.info("new scorecard version %s registered", version)
        if history_days:
            rebuild_kpis(conn, start, day)
        else:
            build_kpis(conn, day)
        conn.commit()
        results = []
        for offset in range(history_days + 1):
            results.append(score_day(conn, start + timedelta(days=offset), config, version))
        cmi_config, cmi_version = load_cmi()
        score_cmi(conn, cmi_config, cmi_version)
        for result in results:
            result.quadrants = assign_quadrants(conn, result.day, cmi_config, cmi_version, version)
        return results
