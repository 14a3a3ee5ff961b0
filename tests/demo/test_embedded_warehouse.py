"""The rule that gives `make demo` and `make test` a Postgres: a given URL, a local server, else an
embedded one that is stopped on every kind of exit and starts again over a killed run's leftovers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from customer_health.warehouse.db import connect, describe, ensure_database
from customer_health.warehouse.migrate import migrate
from demo.local_postgres import NoPostgres, chosen_server
from demo.localenv import REPO_ROOT

NOTHING_ANSWERS = "postgresql://postgres@127.0.0.1:1/customer_health"


@pytest.fixture(scope="module")
def pgdata(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedded") / "pgdata"


def _embedded(pgdata: Path, monkeypatch):
    monkeypatch.delenv("CH_TEST_EMBEDDED_URL", raising=False)
    return chosen_server(env_var="CH_TEST_EMBEDDED_URL", default_url=NOTHING_ANSWERS, pgdata=pgdata, purpose="the demo")


def _running(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def test_when_nothing_answers_an_embedded_server_starts_holds_the_warehouse_and_stops(pgdata, monkeypatch):
    with _embedded(pgdata, monkeypatch) as server:
        assert server.how == "embedded"
        assert "embedded Postgres" in server.reason and "nothing answered at 127.0.0.1:1" in server.reason
        assert ensure_database(server.url) is True
        with connect(server.url) as conn:
            assert migrate(conn)
            assert conn.execute("SELECT count(*) FROM meta.schema_migrations").fetchone()[0] >= 7
        assert describe(server.url).endswith("/customer_health")
        url = server.url
    assert not _running(url), "the embedded server must stop when the command ends"
    assert not (pgdata / "postmaster.pid").exists()


def test_a_second_run_reuses_the_data_directory(pgdata, monkeypatch):
    with _embedded(pgdata, monkeypatch) as server:
        assert ensure_database(server.url) is False, "the warehouse of the first run is still there"
        with connect(server.url) as conn:
            assert migrate(conn) == []


def test_a_stale_pid_file_from_a_killed_run_does_not_block_the_next_start(pgdata, monkeypatch):
    with _embedded(pgdata, monkeypatch):
        pid_file = (pgdata / "postmaster.pid").read_text()
    # Its process is gone, or its pid now belongs to another live process (this one).
    for stale_pid in (_a_dead_pid(), os.getpid()):
        (pgdata / "postmaster.pid").write_text(pid_file.replace(pid_file.splitlines()[0], str(stale_pid), 1))
        with _embedded(pgdata, monkeypatch) as server:
            assert _running(server.url)


def test_sigterm_stops_the_embedded_server(pgdata):
    """A `kill` (or a CI timeout) of the command stops its server instead of leaving it running."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from demo.local_postgres import chosen_server\n"
        f"with chosen_server(env_var='CH_TEST_EMBEDDED_URL', default_url={NOTHING_ANSWERS!r},\n"
        f"                   pgdata=Path({str(pgdata)!r}), purpose='the demo') as server:\n"
        "    print('READY', server.url, flush=True)\n"
        "    time.sleep(120)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CH_TEST_EMBEDDED_URL"}
    env["PYTHONPATH"] = f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}"
    child = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 60
        while not line.startswith("READY") and time.monotonic() < deadline:
            line = child.stdout.readline()
        assert line.startswith("READY"), "the child never had its server"
        url = line.split()[1]
        assert _running(url)
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 128 + signal.SIGTERM
        assert not _running(url)
    finally:
        child.kill()


def test_an_unreachable_given_url_stops_with_what_to_do(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", NOTHING_ANSWERS)
    with pytest.raises(NoPostgres) as stop, chosen_server(
        env_var="WAREHOUSE_URL", default_url=NOTHING_ANSWERS, pgdata=Path("/nonexistent"), purpose="the demo"
    ):
        pass
    assert "No Postgres answers at WAREHOUSE_URL (127.0.0.1:1/customer_health)" in str(stop.value)
    assert "unset it" in str(stop.value)


def test_the_demo_stops_with_the_message_and_no_traceback_when_its_url_is_unreachable():
    result = subprocess.run(
        [sys.executable, "-m", "demo.run_pipeline"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "WAREHOUSE_URL": NOTHING_ANSWERS,
             "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}"},
    )
    assert result.returncode == 1
    assert "No Postgres answers at WAREHOUSE_URL (127.0.0.1:1/customer_health)" in result.stderr
    assert "Traceback" not in result.stderr


def _a_dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
