"""`make bench`: scratch databases, 10 million events for 20,000 accounts, figures printed.

    python -m bench.run [--events N] [--accounts M] [--keep] [--naive] [--careful]

Uses the Postgres of TEST_POSTGRES_URL (default local) and drops its scratch
databases at the end unless --keep.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench import scratch
from customer_health.warehouse.db import connect


def seed_accounts(warehouse_url: str, accounts: int) -> None:
    """The CRM accounts the events belong to (ids as the demo generator makes them)."""
    from demo.world import company_id

    with connect(warehouse_url) as conn:
        conn.execute(
            """INSERT INTO staging.crm_accounts (account_id, name, employees, created_at, _source, _batch_id)
               SELECT (%s::bigint + g)::text, 'Account ' || g, 50, '2025-01-01', 'bench', 0
               FROM generate_series(0, %s - 1) AS g""",
            [int(company_id(0)), accounts],
        )
        conn.execute("ANALYZE staging.crm_accounts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("--naive", action="store_true",
                        help="also time a plain COPY into a table shaped like staging (indexes kept row by row; slow)")
    parser.add_argument("--careful", action="store_true",
                        help="also time the same batch through the careful path (value by value; slow)")
    args = parser.parse_args(argv)

    from bench.load import bench_usage_load
    from demo.bulk import fill_product_db_bulk

    warehouse_url = scratch.recreate("ch_bench", warehouse=True)
    product_url = scratch.recreate("ch_bench_product")
    started = time.perf_counter()
    fill_product_db_bulk(product_url, args.accounts, args.events)
    print(f"product database filled with {args.events:,} events for {args.accounts:,} accounts "
          f"in {time.perf_counter() - started:.1f} s (not measured below)")
    seed_accounts(warehouse_url, args.accounts)

    with tempfile.TemporaryDirectory(prefix="ch-bench-") as tmp:
        figures = bench_usage_load(warehouse_url, product_url, Path(tmp), naive=args.naive, careful=args.careful)
    print("\n".join(figures.lines()))

    from bench.kpis import main as bench_kpis

    bench_kpis(warehouse_url)  # KPIs on the same 10M events: full recompute, one new day, the floor

    if not args.keep:
        for dbname in ("ch_bench", "ch_bench_product"):
            scratch.drop(dbname)
    return 0


if __name__ == "__main__":
    sys.exit(main())
