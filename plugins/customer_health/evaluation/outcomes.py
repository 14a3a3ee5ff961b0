"""Rebuild ``marts.account_outcomes``: which accounts churned, renewed or expanded, as known on a day.

Its own module, apart from the evaluation's statistics, because the daily
scoring step needs the outcomes (a churned account is no longer scored) and
nothing else of the evaluation: importing ``evaluate`` pulls in pandas, scipy
and scikit-learn, about 1 s of a daily step that runs in seconds.
"""
from __future__ import annotations

from datetime import date

import psycopg

from customer_health.config.evaluation import EvaluationFile
from customer_health.warehouse.sqlfiles import fetch_one_sql_file, run_sql_file


def build_outcomes(conn: psycopg.Connection, settings: EvaluationFile, as_of: date) -> int:
    """Rebuild ``marts.account_outcomes`` as of ``as_of``; returns the churns known by then.

    One transaction (a savepoint inside the caller's), so the file's advisory
    lock holds until the rebuild is committed: two concurrent rebuilds run one
    after the other, on an autocommit connection too, and give one result.
    """
    with conn.transaction():
        run_sql_file(conn, "marts/account_outcomes.sql", {
            "grace_days": settings.grace_days, "expansion_min_change": settings.expansion_min_change, "as_of": as_of,
        })
    return int(fetch_one_sql_file(conn, "evaluation/churns_known.sql")["churns"])
