"""`make airflow`: Airflow standalone on localhost with this repo's DAGs and the demo's connections.

Starts the HubSpot and Typeform emulators in this process (so the CRM and
survey DAGs have something to call), then runs ``airflow standalone`` until
Ctrl-C. Log in at http://localhost:8080 as ``admin`` / ``admin``. Run
``make demo`` first so the warehouse and the sample data exist.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


from demo.localenv import DEMO_TOKEN, REPO_ROOT, airflow_env

sys.path.insert(0, str(REPO_ROOT / "plugins"))
from customer_health.warehouse.db import url_with_database  # noqa: E402
from demo.local_postgres import NoPostgres  # noqa: E402

AIRFLOW_HOME = REPO_ROOT / ".airflow"
DEMO_DIR = REPO_ROOT / ".demo"
USERNAME = PASSWORD = "admin"


def main() -> int:
    if not (DEMO_DIR / "hubspot").is_dir():
        sys.exit("No sample data yet: run `make demo` first (it prepares the warehouse and the demo sources).")
    from demo.run_pipeline import warehouse_server  # noqa: PLC0415 - the demo's warehouse rule, shared

    try:
        with warehouse_server() as server:
            print(server.reason, flush=True)
            return serve(server.url)
    except NoPostgres as exc:
        sys.exit(str(exc))


def serve(warehouse_url: str) -> int:
    from demo.emulators import hubspot, typeform  # noqa: PLC0415

    AIRFLOW_HOME.mkdir(exist_ok=True)
    passwords = AIRFLOW_HOME / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({USERNAME: PASSWORD}))
    from demo.receivers import SlackReceiver, SmtpReceiver  # noqa: PLC0415

    with (
        hubspot.start(DEMO_DIR / "hubspot", DEMO_TOKEN) as crm_api,
        typeform.start(DEMO_DIR / "typeform", DEMO_TOKEN) as survey_api,
        SlackReceiver() as slack,
        SmtpReceiver() as smtp,
    ):
        env = airflow_env(
            airflow_home=AIRFLOW_HOME,
            warehouse_url=warehouse_url,
            product_db_url=url_with_database(warehouse_url, "product_demo"),
            hubspot_url=crm_api.base_url,
            typeform_url=survey_api.base_url,
            slack_connection=slack.connection("services/DEMO/DEMO/demo"),
            smtp_connection=smtp.connection("customer-health@example.com"),
        )
        env.update(
            {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                "AIRFLOW__API__PORT": "8080",
            }
        )
        print(f"Airflow UI: http://localhost:8080  (login {USERNAME} / {PASSWORD}); Ctrl-C stops it.", flush=True)
        try:
            return subprocess.call([str(Path(sys.executable).parent / "airflow"), "standalone"], env=env, cwd=REPO_ROOT)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
