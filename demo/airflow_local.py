"""`make airflow`: Airflow on localhost with this repo's DAGs and the demo's connections.

Starts the HubSpot and Typeform emulators in this process (so the CRM and
survey DAGs have something to call), migrates the metadata database, starts
the api-server and waits until it answers, and only then the dag-processor,
the triggerer and the scheduler (what ``airflow standalone`` does, minus its
race: it starts all four at once, and the first task runs failed because the
Execution API they report to was not up yet). Runs until Ctrl-C. Log in at
http://localhost:8080 as ``admin`` / ``admin``. Run ``make demo`` first so
the warehouse and the sample data exist.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path


from demo.localenv import DEMO_TOKEN, REPO_ROOT, airflow_env

sys.path.insert(0, str(REPO_ROOT / "plugins"))
from customer_health.warehouse.db import url_with_database  # noqa: E402
from demo.local_postgres import NoPostgres  # noqa: E402

AIRFLOW_HOME = REPO_ROOT / ".airflow"
DEMO_DIR = REPO_ROOT / ".demo"
USERNAME = PASSWORD = "admin"
API_PORT = 8080
API_READY_TIMEOUT_S = 300  # the api-server's first start compiles its UI routes: slow on 2 busy cores
AFTER_API = ("dag-processor", "triggerer", "scheduler")  # the scheduler last: it starts task runs


class ApiServerDidNotStart(RuntimeError):
    pass


def wait_until_answering(url: str, process: subprocess.Popen, timeout_s: float) -> float:
    """Poll ``url`` until it answers 200; fail when ``process`` (the server) exits first or time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if process.poll() is not None:
            raise ApiServerDidNotStart(f"the api-server exited (code {process.returncode}) before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise ApiServerDidNotStart(f"the api-server did not answer {url} within {timeout_s:.0f} s")


def supervise(api: list[str], others: dict[str, list[str]], ready_url: str, env: dict, *,
              timeout_s: float = API_READY_TIMEOUT_S, out=None) -> int:
    """Start ``api``, wait until ``ready_url`` answers, then start ``others`` in order; stream every
    process's output prefixed with its name; stop them all when one exits or on Ctrl-C."""
    out = out or sys.stdout
    lock = threading.Lock()
    processes: dict[str, subprocess.Popen] = {}

    def start(name: str, command: list[str]) -> None:
        # Its own process group, so stopping it stops what it started too (the scheduler's LocalExecutor workers).
        process = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        processes[name] = process

        def pump() -> None:
            for line in process.stdout:
                with lock:
                    out.write(f"{name:>14} | {line}")
                    out.flush()

        threading.Thread(target=pump, daemon=True).start()

    try:
        start("api-server", api)
        waited = wait_until_answering(ready_url, processes["api-server"], timeout_s)
        with lock:
            out.write(f"{'make airflow':>14} | api-server answers {ready_url} after {waited:.0f} s: starting {', '.join(others)}\n")
            out.flush()
        for name, command in others.items():
            start(name, command)
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        exited = next(name for name, p in processes.items() if p.poll() is not None)
        return processes[exited].returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes.values():
            _signal_group(process, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            _signal_group(process, signal.SIGKILL)  # what is left of the group: idle workers ignore SIGTERM


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal the process group a component leads (started with start_new_session), if any of it is left."""
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


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
                "AIRFLOW__API__PORT": str(API_PORT),
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__AUTH_MANAGER":
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{API_PORT}/execution/",
            }
        )
        airflow = str(Path(sys.executable).parent / "airflow")
        print("Migrating the metadata database ...", flush=True)
        subprocess.run([airflow, "db", "migrate"], env=env, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
        print(f"Airflow UI: http://localhost:{API_PORT}  (login {USERNAME} / {PASSWORD}) once the api-server "
              "answers; the scheduler starts after it. Ctrl-C stops it.", flush=True)
        try:
            return supervise([airflow, "api-server"], {name: [airflow, name] for name in AFTER_API},
                             f"http://127.0.0.1:{API_PORT}/api/v2/version", env)
        except ApiServerDidNotStart as exc:
            sys.exit(str(exc))


if __name__ == "__main__":
    sys.exit(main())
