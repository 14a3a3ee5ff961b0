"""The Customer Maturity Index and the health x maturity quadrants.

CMI is recomputed for every assessment under the current ``cmi.yml`` (there
are few); the quadrant of each account is written per day from that day's
health score and the latest assessment submitted by then.
"""
from __future__ import annotations

from datetime import date

import psycopg

from customer_health.config.cmi import CmiFile
from customer_health.warehouse.sqlfiles import fetch_one_sql_file, fetch_sql_file, run_sql_file
from customer_health.warehouse.statistics import analyze_tables_changed_a_lot


def score_cmi(conn: psycopg.Connection, config: CmiFile, version: str) -> int:
    rows = config.question_rows()
    with conn.transaction():
        run_sql_file(conn, "marts/cmi_scores.sql", {
            "version": version,
            "questions": [r[0] for r in rows],
            "characteristic_of": [r[1] for r in rows],
            "factor_of": [r[2] for r in rows],
            "weight_of": [r[3] for r in rows],
        })
        return fetch_one_sql_file(conn, "scoring/cmi_score_count.sql", {"version": version})["assessments"]


def assign_quadrants(conn: psycopg.Connection, day: date, config: CmiFile, cmi_version: str, health_version: str) -> dict[str, int]:
    with conn.transaction():
        run_sql_file(conn, "marts/account_quadrants.sql", {
            "day": day,
            "health_version": health_version,
            "cmi_version": cmi_version,
            "health_cut": config.quadrants.health_cut,
            "maturity_cut": config.quadrants.maturity_cut,
            "stale_after_days": config.stale_after_days,
        })
        analyze_tables_changed_a_lot(conn, ["marts.account_quadrants"])  # the day alone was analysed (V100)
        counts = fetch_sql_file(conn, "scoring/quadrant_counts.sql", {
            "day": day, "health_version": health_version, "cmi_version": cmi_version,
        })
        return {r["quadrant"]: r["accounts"] for r in counts}
