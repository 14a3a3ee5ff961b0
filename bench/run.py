"""`make bench`: scratch databases, 10 million events for 20,000 accounts, every target printed in one run.

    python -m bench.run [--events N] [--accounts M] [--days D] [--sizes 1m,10m] [--rescore-days 365]
                        [--keep] [--naive] [--careful]

1. load: the product database's events through the real extract + load (bench.load);
2. for each size of history in ``--sizes`` (or ``SIZES``; default ``1m,10m``;
   ``1m,10m,30m`` when asked): a warehouse with the same accounts and the same
   events per day (``--events`` / ``--days``), so only the length of history
   differs; the KPIs' full recompute against the one-pass floor, score one
   day, CMI + quadrants, the daily run of one new day step by step (its KPIs
   are issue 14's "one new day"), and (where the history is that long)
   re-scoring ``--rescore-days`` days (bench.scoring); on the largest, the
   custom KPIs of bench.custom_kpis;
3. a summary: each figure with its target and the ratio, the new-day figures of
   the sizes side by side (flat within +-30 %), and the peak memory of this process.

Uses the Postgres of TEST_POSTGRES_URL (default local); scratch database names
are unique per run and dropped at the end unless --keep. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench import scratch
from customer_health.warehouse.db import connect

TARGETS = {  # seconds, from issues 14 and 16
    "KPIs of a new day": 5.0,
    "score one day": 5.0,
    "daily run of a new day": 15.0,
    "re-score 365 days": 15 * 60.0,
}
MEMORY_TARGET_MB = 500.0
RECOMPUTE_TARGET_X_FLOOR = 3.0  # issue 14: the KPIs' full recompute <= 3 x a one-pass GROUP BY of the events
FLAT_WITHIN = 0.30


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


def parse_size(text: str) -> int:
    """``1m`` -> 1,000,000, ``20k`` -> 20,000, ``5000`` -> 5,000."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if factor > 1 else text
    try:
        return int(float(number) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r}: give events as 1m, 10m, 30m, 20k or a number") from None


def peak_memory_mb() -> float:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=parse_size, default=10_000_000, help="events of the load benchmark")
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=365,
                        help="days those events cover: events per day for every size is events / days")
    parser.add_argument("--sizes", default=os.environ.get("SIZES", "1m,10m"),
                        help="events of history per scoring warehouse (default SIZES or 1m,10m)")
    parser.add_argument("--rescore-days", type=int, default=365)
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("--naive", action="store_true",
                        help="also time a plain COPY into a table shaped like staging (indexes kept row by row; slow)")
    parser.add_argument("--careful", action="store_true",
                        help="also time the same batch through the careful path (value by value; slow)")
    args = parser.parse_args(argv)
    sizes = [(label.strip(), parse_size(label)) for label in args.sizes.split(",") if label.strip()]
    per_day = args.events / args.days

    from bench.load import bench_usage_load
    from bench.scoring import bench_size
    from demo.bulk import fill_product_db_bulk

    print(f"load average at start: {load_average()} ({os.cpu_count()} cores)")
    warehouse_db, product_db = scratch.unique_name("ch_bench"), scratch.unique_name("ch_bench_product")
    try:
        warehouse_url = scratch.recreate(warehouse_db, warehouse=True)
        product_url = scratch.recreate(product_db)
        started = time.perf_counter()
        fill_product_db_bulk(product_url, args.accounts, args.events)
        print(f"product database filled with {args.events:,} events for {args.accounts:,} accounts "
              f"in {time.perf_counter() - started:.1f} s (not measured below)")
        seed_accounts(warehouse_url, args.accounts)
        with tempfile.TemporaryDirectory(prefix="ch-bench-") as tmp:
            figures = bench_usage_load(warehouse_url, product_url, Path(tmp), naive=args.naive, careful=args.careful)
        print("\n".join(figures.lines()))
    finally:
        if not args.keep:
            for dbname in (warehouse_db, product_db):
                scratch.drop(dbname)

    results = []
    rescore_at = next((i for i, (_, events) in enumerate(sizes) if events / per_day >= args.rescore_days),
                      len(sizes) - 1)
    for i, (label, events) in enumerate(sizes):
        days = max(2, round(events / per_day))
        # re-scored at one size only: the first whose history is long enough (else the longest, extrapolated)
        rescore_days = min(args.rescore_days, days) if i == rescore_at else days + 1
        # The KPI figures come from these warehouses (CRM, contracts, surveys and sessions of events), the
        # custom KPIs' from the largest: the load benchmark's warehouse has events but no CRM history.
        figures = bench_size(label, events=events, accounts=args.accounts, days=days, rescore_days=rescore_days,
                             keep=args.keep, custom_kpis=events == max(e for _, e in sizes))
        print("\n".join(figures.lines()) + f"\n  load average now: {load_average()}")
        results.append(figures)

    print("\n".join(summary(results, args.rescore_days)))
    return 0


def summary(results, rescore_days: int) -> list[str]:
    lines = ["", f"summary ({results[0].accounts:,} accounts; load average {load_average()}):",
             f"  {'':34} {'figure':>10} {'target':>10} {'ratio':>7}"]

    def row(name: str, seconds: float, target: float, note: str = "") -> None:
        lines.append(f"  {name:34} {seconds:9.2f}s {target:9.0f}s {seconds / target:7.2f}{note}")

    main_size = max(results, key=lambda f: f.events)
    row(f"KPIs of a new day ({main_size.label})", main_size.daily["KPIs"], TARGETS["KPIs of a new day"])
    lines.append(f"  {'KPI full recompute (' + main_size.label + ')':34} {main_size.kpis_ratio:8.1f}x "
                 f"{RECOMPUTE_TARGET_X_FLOOR:8.0f}x {main_size.kpis_ratio / RECOMPUTE_TARGET_X_FLOOR:7.2f}"
                 f"  ({main_size.kpis_s:.1f} s against a one-pass floor of {main_size.floor_s:.2f} s)")
    row(f"score one day ({main_size.label})", main_size.score_day_s, TARGETS["score one day"])
    lines.append(f"  {'CMI + quadrants (' + main_size.label + ')':34} {main_size.cmi_quadrants_s:9.2f}s {'':>10}")
    row(f"daily run of a new day ({main_size.label})", main_size.daily_s, TARGETS["daily run of a new day"])
    rescored = next((f for f in results if f.rescore_s is not None), None)
    if rescored is not None:
        projected = rescored.rescore_s * rescore_days / rescored.rescore_days
        note = "" if rescored.rescore_days == rescore_days else \
            f" (measured {rescored.rescore_days} days in {rescored.rescore_s:.1f} s, extrapolated)"
        row(f"re-score {rescore_days} days ({rescored.label})", projected, TARGETS["re-score 365 days"], note)
    memory = peak_memory_mb()
    lines.append(f"  {'peak memory of this process':34} {memory:8.0f}MB {MEMORY_TARGET_MB:8.0f}MB "
                 f"{memory / MEMORY_TARGET_MB:7.2f}")
    base = results[0]
    lines.append("  the new day by size of history (flat within +-30 % of the smallest):")
    lines.append("  " + " ".join(f"{f.label:>22}" for f in results))
    for name, value in (("KPIs of a day", lambda f: f.daily["KPIs"]), ("score one day", lambda f: f.score_day_s),
                        ("daily run", lambda f: f.daily_s)):
        cells = []
        for f in results:
            ratio = value(f) / value(base) if value(base) else float("nan")
            flag = "" if abs(ratio - 1) <= FLAT_WITHIN else " !"
            cells.append(f"{value(f):8.2f}s x{ratio:4.2f}{flag}")
        lines.append(f"  {name:14}" + " ".join(f"{c:>22}" for c in cells))
    return lines


if __name__ == "__main__":
    sys.exit(main())
