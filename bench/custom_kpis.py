"""Custom KPI timings (kpis.yml declarations): per-event rollup, full recompute, one new day, against the floor.

    python -m bench.custom_kpis --fill [--events 1000000] [--accounts 2000] [--days 180] [--keep]
    python -m bench.custom_kpis --url postgresql://...   (a warehouse whose standard KPIs are built)

``--fill`` makes a scratch database (``ch_bench_ckpis_<pid>_<random>``) filled
like ``bench.kpis --fill`` and writes the mart's rows (one per account and day, the standard KPIs left
NULL: ``bench.kpis`` times their statement, so the ratio over
``active_users_30d`` is NULL here). Then, with the declarations of ``DECLARED``
(every kind, the demo product's events):

- the floor: ``CREATE TEMP TABLE AS SELECT account_id, occurred_at::date,
  count(*) ... GROUP BY 1, 2`` over the events, best of 3;
- the per-event rollup of every day alone (one grouped pass);
- the full recompute of the custom columns (rollup, state, every value of
  every day), and its ratio to the floor;
- one new day (``build_custom_kpis`` of the last day: its rollup, the state
  fold, the values from the window rollups and the state), twice.

No timing is asserted anywhere; the load average is printed with the figures.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "plugins"))

from bench import scratch  # noqa: E402
from customer_health.config.kpis import KpisFile, load_kpis  # noqa: E402
from customer_health.custom_kpis import build_custom_kpis, rebuild_custom_kpis  # noqa: E402
from customer_health.warehouse.db import connect  # noqa: E402
from customer_health.warehouse.sqlfiles import fetch_one_sql_file, run_sql_file  # noqa: E402

SCRATCH_PREFIX = "ch_bench_ckpis"
# --fill: the rows the custom KPIs update, one per account and day from its creation (as the standard build writes).
MART_ROWS = """INSERT INTO marts.account_daily_kpis (account_id, day)
               SELECT a.account_id, d::date FROM staging.crm_accounts AS a,
                      generate_series(a.created_at::date, %(end)s::date, interval '1 day') AS d"""
# The yardstick: one grouped pass over the events (a temp table, dropped at once).
FLOOR = """CREATE TEMP TABLE IF NOT EXISTS _floor AS
           SELECT account_id, occurred_at::date AS day, count(*) AS events, sum(duration_seconds) AS seconds
           FROM staging.usage_events GROUP BY 1, 2;
           DROP TABLE _floor"""
LOGIN = {"events": ["login"]}
DECLARED = {
    "b_messages_30d": {"label": "Messages", "description": "d", "count": {"events": ["message_sent"], "window": 30}},
    "b_reports_30d": {"label": "Reports", "description": "d", "count": {"events_matching": "report%", "window": 30}},
    "b_session_minutes_7d": {"label": "Minutes", "description": "d",
                             "sum": {**LOGIN, "window": 7, "scale": "minutes"}},
    "b_message_days_30d": {"label": "Message days", "description": "d",
                           "distinct": {"of": "days", "events": ["message_sent"], "window": 30}},
    "b_messages_change": {"label": "Messages change", "description": "d", "change": {"of": "b_messages_30d"}},
    "b_messages_per_user": {"label": "Per user", "description": "d",
                            "ratio": {"numerator": "b_messages_30d", "denominator": "active_users_30d"}},
    "b_days_since_invite": {"label": "Since invite", "description": "d", "days_since": {"events": ["member_invited"]}},
    "b_days_since_first_export": {"label": "Since first export", "description": "d",
                                  "days_since": {"events": ["report_export"], "which": "first"}},
    "b_message_users_30d": {"label": "Message users", "description": "d",
                            "distinct": {"of": "users", "events": ["message_sent"], "window": 30}},
    "b_report_features_30d": {"label": "Report features", "description": "d",
                              "distinct": {"of": "features", "events_matching": "report%", "window": 30}},
    "b_days_using": {"label": "Days using", "description": "d", "tenure": {"since": "first_event"}},
    "b_age": {"label": "Age", "description": "d", "tenure": {"since": "crm_created"}},
    "b_renewals": {"label": "Renewals", "description": "d", "contract": {"fact": "renewals_so_far"}},
    "b_term_days": {"label": "Term days", "description": "d", "contract": {"fact": "days_since_contract_start"}},
    "b_nps_age": {"label": "NPS age", "description": "d", "survey": {"survey": "nps", "measure": "age_days"}},
    "b_csat_90d": {"label": "CSAT", "description": "d",
                   "survey": {"survey": "csat", "measure": "average", "window_days": 90}},
    "b_employees": {"label": "Employees", "description": "d", "crm": {"property": "employees"}},
}


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def bench_custom_kpis(url: str) -> list[str]:
    """Time the custom KPIs on a warehouse whose standard KPIs are built; returns the printed lines."""
    base = load_kpis()[0]
    config = KpisFile.model_validate({**base.model_dump(exclude={"kpis"}), "kpis": DECLARED})
    with connect(url) as conn:
        conn.autocommit = True
        span = fetch_one_sql_file(conn, "kpis/custom/mart_span.sql")
        first_event_at = fetch_one_sql_file(conn, "kpis/first_event_at.sql")["first_event_at"]
        first_day = first_event_at.astimezone(timezone.utc).date()
        # the mart's days (an empty mart, no CRM accounts: the events' days, and nothing to update)
        mart_first = span["first_day"] or first_day
        last_day = span["last_day"] or fetch_one_sql_file(conn, "kpis/last_event_at.sql")["last_event_at"].astimezone(
            timezone.utc).date()
        floor_s = min(_timed(lambda: conn.execute(FLOOR)) for _ in range(3))
        conn.autocommit = False
        with conn.transaction():
            rollup_s = _timed(lambda: run_sql_file(conn, "intermediate/account_day_events.sql",
                                                   {"first_day": first_day, "last_day": last_day}))
        with conn.transaction():
            rebuild_s = _timed(lambda: rebuild_custom_kpis(conn, first_day, mart_first, last_day, config))
        day_s = []
        for _ in range(2):
            with conn.transaction():
                day_s.append(_timed(lambda: build_custom_kpis(conn, last_day, last_day, config)))
    days = (last_day - mart_first).days + 1 if span["first_day"] else 0
    return [
        f"custom KPIs ({len(DECLARED)} declared, every kind; {days} days of the mart; load average {load_average()}):",
        f"  floor (one-pass CREATE TABLE AS ... GROUP BY account, day over the events): {floor_s:.2f} s",
        f"  per-event rollup of every day, one pass: {rollup_s:.2f} s",
        f"  full recompute (rollup, state, every value of every day): {rebuild_s:.2f} s = {rebuild_s / floor_s:.1f} x the floor",
        f"  one new day (rollup of the day, state fold, values): {day_s[0]:.2f} s, rerun {day_s[1]:.2f} s",
    ]


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(warehouse_url: str | None = None, argv: list[str] | None = None) -> int:
    if warehouse_url is not None:
        print("\n".join(bench_custom_kpis(warehouse_url)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="time this warehouse (standard KPIs already built)")
    parser.add_argument("--fill", action="store_true", help=f"generate data in a scratch database ({SCRATCH_PREFIX}_...)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.url:
        print("\n".join(bench_custom_kpis(args.url)))
        return 0
    if not args.fill:
        parser.error("give --url or --fill")
    from bench.kpis import END_DAY, fill  # noqa: PLC0415

    dbname = scratch.unique_name(SCRATCH_PREFIX)
    try:
        url = scratch.recreate(dbname, warehouse=True)
        fill(url, events=args.events, accounts=args.accounts, days=args.days, shape="sessions")
        with connect(url) as conn:  # the mart's rows only: bench.kpis times the standard statement
            conn.execute(MART_ROWS, {"end": END_DAY})
            conn.execute("ANALYZE marts.account_daily_kpis")
            conn.commit()
        print(f"{args.events:,} events, {args.accounts:,} accounts, {args.days} days filled; the mart holds one row "
              f"per account and day, standard KPIs not computed (bench.kpis times those; load average {load_average()})")
        print("\n".join(bench_custom_kpis(url)))
    finally:
        if not args.keep:
            scratch.drop(dbname)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(argv=sys.argv[1:]))
