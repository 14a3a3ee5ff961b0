"""The environment for running this repo's Airflow locally (demo, tests, `make airflow`).

One place for it, so the demo, the test suite and the UI all see the same
DAGs, plugins and connections. Airflow reads these variables at import time:
build the environment before the first ``import airflow``.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_TOKEN = "demo-token"


def airflow_env(
    *,
    airflow_home: Path,
    warehouse_url: str,
    product_db_url: str,
    hubspot_url: str | None = None,
    typeform_url: str | None = None,
    slack_connection: str | None = None,
    smtp_connection: str | None = None,
    base: dict | None = None,
) -> dict[str, str]:
    """Variables for an Airflow process that runs the project's DAGs against the given warehouse."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "WAREHOUSE_URL": warehouse_url,
            "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
            "AIRFLOW_CONN_PRODUCT_DB": product_db_url,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO_ROOT / "plugins"), str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
            ),
        }
    )
    if hubspot_url:
        env["AIRFLOW_CONN_HUBSPOT"] = http_connection_uri(hubspot_url, DEMO_TOKEN)
        env["AIRFLOW_CONN_CRM_TASKS"] = env["AIRFLOW_CONN_HUBSPOT"]  # tasks go to the same CRM
    if slack_connection:
        env["AIRFLOW_CONN_CSM_SLACK"] = slack_connection
    if smtp_connection:
        env["AIRFLOW_CONN_CSM_SMTP"] = smtp_connection
        env["CSM_DIGEST_QUEUE_EMAIL"] = "cs-unassigned@example.com"
    if typeform_url:
        env["AIRFLOW_CONN_TYPEFORM"] = http_connection_uri(typeform_url, DEMO_TOKEN)
    return env


def http_connection_uri(base_url: str, token: str) -> str:
    """An Airflow http connection whose password is the API token: http://:TOKEN@host:port."""
    scheme, rest = base_url.split("://", 1)
    return f"{scheme}://:{token}@{rest.rstrip('/')}"
