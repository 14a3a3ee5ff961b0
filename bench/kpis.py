"""KPI timings: full recompute, one new day, and the floor, on whatever is in staging.

    python -m bench.kpis --fill [--events 1000000] [--accounts 2000] [--days 180] [--shape sessions|uniform] [--keep]
    python -m bench.kpis --url postgresql://... (time an existing warehouse; nothing is generated)

``--fill`` makes a scratch database (``ch_bench_kpis_<pid>_<random>``), migrates it and fills
staging inside Postgres (``INSERT ... SELECT generate_series``, then ANALYZE):
CRM accounts, users, licences, yearly contracts, expansions, NPS / CSAT answers,
CSM sentiment and usage events. ``sessions`` (default) is shaped like product
usage: a user opens a session (login) and does a few actions, heavy and light
accounts, power users. ``uniform`` draws every event's account, user and time
independently, like the loader benchmark (demo/bulk.py): the worst case for
rollups, since almost no two events share a user and a day.

Printed: the floors (one scan of the events; one pass grouping them by account and day, the
floor of a full recompute, issue 14: target <= 3 x), ``rebuild_kpis`` over every day,
``build_kpis`` for the last day, a rerun of it, and a new day end to end (its
events through the real loader, then ``build_kpis``), with ratios to the floor.
No timing is asserted anywhere.

``bench.run`` (``make bench``) calls ``main(warehouse_url)`` after its load benchmark.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "plugins"))

import psycopg  # noqa: E402

from customer_health.config.scorecards import load_scorecards, scorecards_path  # noqa: E402
from bench import scratch  # noqa: E402
from customer_health.contracts.streams import STREAMS  # noqa: E402
from customer_health.kpis import build_kpis, rebuild_kpis, settle_rebuilt_tables  # noqa: E402
from customer_health.scoring.engine import register_version, score_day  # noqa: E402
from customer_health.sources.base import Spool  # noqa: E402
from customer_health.warehouse.db import connect  # noqa: E402
from customer_health.warehouse.loader import load_batch, new_batch_id  # noqa: E402

SCRATCH_PREFIX = "ch_bench_kpis"
END_DAY = date(2026, 11, 22)

# Event names and weights as the demo product uses them (demo/world.py).
ACTIONS = {
    "dashboard_view": 30, "message_sent": 28, "search_performed": 14, "comment_added": 12,
    "file_uploaded": 8, "report_created": 5, "report_export": 4, "automation_created": 2,
    "settings_changed": 2, "integration_connected": 1, "member_invited": 1,
}
WEIGHTED_ACTIONS = [name for name, weight in ACTIONS.items() for _ in range(weight)]

FILL_CRM = """
INSERT INTO staging.crm_accounts (account_id, name, parent_account_id, csm_owner_id, employees, industry, region,
                                  lifecycle_stage, created_at, _source, _batch_id)
SELECT 'acc' || lpad(g::text, 6, '0'), 'Account ' || g,
       CASE WHEN g %% 20 = 0 THEN 'acc' || lpad((g - 19)::text, 6, '0') END,
       CASE WHEN g %% 4 <> 0 THEN 'owner' || (g %% 8) END,
       CASE WHEN g %% 13 <> 0 THEN 10 + (g * 37) %% 3000 END,
       (ARRAY['software', 'retail', 'finance', 'health'])[1 + g %% 4],
       (ARRAY['JP', 'NA', 'EMEA', 'APAC'])[1 + g %% 4],
       CASE WHEN g %% 7 = 0 THEN 'onboarding' ELSE 'customer' END,
       %(end)s::timestamptz + interval '1 day' - ((g * 13) %% 700 + 5) * interval '1 day' + (g %% 24) * interval '1 hour',
       'bench', 0
FROM generate_series(1, %(accounts)s) AS g;

CREATE TEMP TABLE _bench_accounts AS
SELECT a.account_id, row_number() OVER (ORDER BY a.account_id) AS g, a.created_at,
       3 + (row_number() OVER (ORDER BY a.account_id) * 7) %% 58 AS users,
       exp(random() * 2 - 1) AS engagement
FROM staging.crm_accounts AS a;

INSERT INTO staging.users (user_id, account_id, created_at, deactivated_at, role, _source, _batch_id)
SELECT a.account_id || '-u' || k, a.account_id, a.created_at + (k - 1) * interval '2 days',
       CASE WHEN k %% 9 = 0 THEN a.created_at + (k * 11) * interval '1 day' END,
       CASE WHEN k = 1 THEN 'owner' ELSE 'member' END, 'bench', 0
FROM _bench_accounts AS a, generate_series(1, a.users) AS k;

INSERT INTO staging.licences (account_id, seats, _source, _batch_id)
SELECT account_id, users + g %% 5, 'bench', 0 FROM _bench_accounts WHERE g %% 17 <> 0;

INSERT INTO staging.crm_contracts (contract_id, account_id, start_date, end_date, arr, status, _source, _batch_id)
SELECT a.account_id || '-c' || n, a.account_id, s.start_date, s.end_date, 1000 * (1 + a.g %% 50) * (1 + 0.03 * n),
       CASE WHEN s.end_date > %(end)s::date THEN 'active' WHEN a.g %% 11 = 0 THEN 'churned' ELSE 'renewed' END,
       'bench', 0
FROM _bench_accounts AS a
CROSS JOIN generate_series(0, 2) AS n
CROSS JOIN LATERAL (SELECT ((a.created_at AT TIME ZONE 'UTC')::date + make_interval(years => n))::date AS start_date,
                           ((a.created_at AT TIME ZONE 'UTC')::date + make_interval(years => n + 1))::date AS end_date) AS s
WHERE s.start_date <= %(end)s::date;

INSERT INTO staging.crm_expansions (expansion_id, account_id, kind, closed_at, arr_delta, _source, _batch_id)
SELECT a.account_id || '-x' || n, a.account_id, CASE WHEN n %% 2 = 0 THEN 'upsell' ELSE 'cross_sell' END,
       %(end)s::date - ((a.g * 31 + n * 97) %% 500)::int, 500, 'bench', 0
FROM _bench_accounts AS a, generate_series(1, 1 + a.g %% 3) AS n
WHERE a.g %% 3 = 0;

INSERT INTO staging.survey_responses (response_id, account_id, respondent, survey, question_id, answer, submitted_at,
                                      _source, _batch_id)
SELECT 'r' || a.g || '-' || n || s.survey, a.account_id, 'user@example.com', s.survey, s.survey,
       CASE WHEN s.survey = 'nps' THEN floor(random() * 11) ELSE 1 + floor(random() * 5) END,
       %(end)s::timestamptz + interval '1 day' - random() * interval '360 days', 'bench', 0
FROM _bench_accounts AS a, generate_series(1, 3) AS n, (VALUES ('nps'), ('csat')) AS s(survey);

INSERT INTO staging.crm_sentiment (entry_id, account_id, csm_owner_id, sentiment, note, recorded_at, _source, _batch_id)
SELECT 's' || a.g || '-' || n, a.account_id, 'owner1', 1 + floor(random() * 3), 'note',
       %(end)s::timestamptz + interval '1 day' - random() * interval '360 days', 'bench', 0
FROM _bench_accounts AS a, generate_series(1, 4) AS n;

-- The KPIs read the CRM, licences and users from history.<stream>, which the loader keeps; staging
-- filled by hand gets the first version of everything there, as migration V040 does.
INSERT INTO history.crm_accounts (account_id, name, parent_account_id, csm_owner_id, employees, industry, region,
                                  lifecycle_stage, created_at, loaded_at, _source, opened_in_batch)
SELECT account_id, name, parent_account_id, csm_owner_id, employees, industry, region, lifecycle_stage, created_at,
       _loaded_at, _source, _batch_id
FROM staging.crm_accounts;

INSERT INTO history.crm_contracts (contract_id, account_id, start_date, end_date, arr, status, loaded_at, _source, opened_in_batch)
SELECT contract_id, account_id, start_date, end_date, arr, status, _loaded_at, _source, _batch_id FROM staging.crm_contracts;

INSERT INTO history.licences (account_id, seats, loaded_at, _source, opened_in_batch)
SELECT account_id, seats, _loaded_at, _source, _batch_id FROM staging.licences;

INSERT INTO history.users (user_id, account_id, created_at, deactivated_at, role, loaded_at, _source, opened_in_batch)
SELECT user_id, account_id, created_at, deactivated_at, role, _loaded_at, _source, _batch_id FROM staging.users;

ANALYZE history.crm_accounts, history.crm_contracts, history.licences, history.users;

INSERT INTO staging.crm_owners (owner_id, email, name, _source, _batch_id)
SELECT 'owner' || g, 'owner' || g || '@example.com', 'Owner ' || g, 'bench', 0
FROM generate_series(0, 7) AS g;

INSERT INTO staging.survey_responses (response_id, account_id, respondent, survey, question_id, answer, submitted_at,
                                      _source, _batch_id)
SELECT 'cmi' || a.g, a.account_id, 'cs@example.com', 'cmi', q, 1 + floor(random() * 5),
       %(end)s::timestamptz - ((a.g * 17) %% 300) * interval '1 day', 'bench', 0
FROM _bench_accounts AS a,
     unnest(ARRAY['strategy_what', 'strategy_how_well', 'people_what', 'people_how_well', 'process_what',
                  'technology_what']) AS q
WHERE a.g %% 5 <> 0;

-- Every stream loaded the morning after the last day, as the nightly ingest
-- leaves them: the quality gate judges loads from meta.load_batches.
INSERT INTO meta.load_batches (source, stream, started_at, finished_at)
SELECT 'bench', s, %(end)s::timestamptz + interval '27 hours', %(end)s::timestamptz + interval '27 hours'
FROM unnest(ARRAY['crm_accounts', 'crm_owners', 'crm_contracts', 'crm_expansions', 'crm_sentiment', 'users',
                  'licences', 'survey_responses', 'usage_events']) AS s
"""

# Sessions: each account gets a share of the sessions by engagement x size; a
# session is one user (power users more often) on one day: a login, then a few actions.
FILL_SESSIONS = """
CREATE TEMP TABLE _bench_sessions AS
WITH shares AS (
    SELECT a.*, round(%(sessions)s * engagement * users / sum(engagement * users) OVER ())::int AS sessions
    FROM _bench_accounts AS a
)
SELECT s.account_id, s.account_id || '-u' || (1 + floor(s.users * random() ^ 2))::int AS user_id,
       %(first)s::timestamptz + floor(random() * %(days)s) * interval '1 day'
         + (6 + random() * 14) * interval '1 hour' AS started_at,
       floor(-ln(1 - random()) * 4)::int AS actions
FROM shares AS s, generate_series(1, s.sessions) AS n;

INSERT INTO staging.usage_events (event_id, account_id, user_id, event_name, occurred_at, duration_seconds,
                                  _source, _batch_id)
SELECT 'e' || row_number() OVER (), s.account_id, s.user_id,
       CASE WHEN k = 0 THEN 'login' ELSE (%(names)s::text[])[1 + floor(random() * cardinality(%(names)s::text[]))::int] END,
       s.started_at + k * interval '40 seconds',
       CASE WHEN k = 0 THEN 60 + floor(random() * 1800) ELSE floor(random() * 60) END,
       'bench', 0
FROM _bench_sessions AS s, generate_series(0, s.actions) AS k
ORDER BY 5
"""

FILL_UNIFORM = """
INSERT INTO staging.usage_events (event_id, account_id, user_id, event_name, occurred_at, duration_seconds,
                                  _source, _batch_id)
SELECT 'e' || d.n, a.account_id, a.account_id || '-u' || (1 + floor(random() * 20))::int,
       CASE WHEN random() < 0.22 THEN 'login'
            ELSE (%(names)s::text[])[1 + floor(random() * cardinality(%(names)s::text[]))::int] END,
       d.at, floor(random() * 900), 'bench', 0
FROM (SELECT n, 1 + floor(random() * %(accounts)s)::int AS g,
             %(first)s::timestamptz + random() * %(days)s * interval '1 day' AS at
      FROM generate_series(1, %(events)s) AS n) AS d
JOIN _bench_accounts AS a USING (g)
ORDER BY d.at
"""


@dataclass
class KpiFigures:
    events: int
    accounts: int
    days: int
    floor_s: float
    one_pass_s: float
    rebuild_s: float
    rebuild_rows: int
    day_s: float
    rerun_s: float
    new_day_load_s: float | None = None
    new_day_build_s: float | None = None
    new_day_events: int = 0
    new_day_score_s: float | None = None
    new_day_scored: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        ratio = lambda seconds: f"{seconds / self.floor_s:8.1f} x floor"  # noqa: E731
        lines = [
            f"KPIs on {self.events:,} events, {self.accounts:,} accounts, {self.days} days:",
            f"  floor: count + sum over the events      {self.floor_s:7.2f} s",
            f"  floor: one-pass CREATE TABLE AS ... GROUP BY account, day {self.one_pass_s:7.2f} s",
            f"  rebuild_kpis, every day ({self.rebuild_rows:,} rows) {self.rebuild_s:7.2f} s {ratio(self.rebuild_s)}",
            f"  full recompute / one-pass floor         {self.rebuild_s / self.one_pass_s:7.1f} x (target <= 3)",
            f"  build_kpis, the last day                {self.day_s:7.2f} s {ratio(self.day_s)}",
            f"  build_kpis, the same day again          {self.rerun_s:7.2f} s {ratio(self.rerun_s)}",
        ]
        if self.new_day_load_s is not None:
            total = self.new_day_load_s + self.new_day_build_s
            lines += [
                f"  a new day ({self.new_day_events:,} events): load {self.new_day_load_s:.2f} s + build_kpis "
                f"{self.new_day_build_s:.2f} s = {total:.2f} s {ratio(total)}",
            ]
        if self.new_day_score_s is not None:
            lines += [
                f"  scoring that day ({self.new_day_scored:,} accounts: gate, scores, explanations, changes, roll-up) "
                f"{self.new_day_score_s:.2f} s {ratio(self.new_day_score_s)}",
            ]
        return lines + [f"  note: {n}" for n in self.notes]


def fill(url: str, *, events: int, accounts: int, days: int, shape: str, seed: float = 0.42) -> None:
    """Fill staging of a migrated warehouse with generated CRM, survey and usage data."""
    first = datetime.combine(END_DAY - timedelta(days=days - 1), datetime.min.time(), timezone.utc)
    params = {"accounts": accounts, "events": events, "days": days, "first": first, "end": END_DAY,
              "sessions": max(1, events // 5), "names": WEIGHTED_ACTIONS}
    with connect(url) as conn:
        conn.execute("SET LOCAL work_mem = '256MB'")
        conn.execute("SELECT setseed(%s)", [seed])
        for statement in FILL_CRM.split(";\n\n"):
            conn.execute(statement, params)
        for statement in (FILL_SESSIONS if shape == "sessions" else FILL_UNIFORM).split(";\n\n"):
            conn.execute(statement, params)
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")


def _floor(conn: psycopg.Connection) -> float:
    best = None
    for _ in range(3):
        started = time.perf_counter()
        conn.execute("SELECT count(*), sum(duration_seconds) FROM staging.usage_events").fetchone()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best


def _one_pass_floor(conn: psycopg.Connection) -> float:
    """What one pass over the events that groups them by account and day costs: the full recompute's floor
    (issue 14), with the work_mem the KPI build sets, so that neither spills where the other does not."""
    with conn.transaction():
        conn.execute("SET LOCAL work_mem = '256MB'")
        conn.execute("SET LOCAL jit = off")
        started = time.perf_counter()
        conn.execute(
            """CREATE TEMP TABLE _bench_one_pass ON COMMIT DROP AS
               SELECT account_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, count(*) AS events,
                      sum(duration_seconds) AS duration_seconds
               FROM staging.usage_events
               GROUP BY 1, 2""")
        return time.perf_counter() - started


def _load_new_day(url: str, day: date) -> tuple[int, float]:
    """One more day of events, shaped like the last day's, through the real loader."""
    with connect(url) as conn:
        rows = conn.execute(
            """SELECT 'n' || event_id, account_id, user_id, event_name,
                      to_char((occurred_at + interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                      duration_seconds
               FROM staging.usage_events
               WHERE occurred_at >= %(day)s::date::timestamp AT TIME ZONE 'UTC'
                 AND occurred_at < (%(day)s::date + 1)::timestamp AT TIME ZONE 'UTC'""",
            {"day": day - timedelta(days=1)},
        ).fetchall()
    columns = STREAMS["usage_events"].columns
    with tempfile.TemporaryDirectory(prefix="ch-bench-kpis-") as tmp, connect(url) as conn:
        conn.autocommit = True
        batch_id = new_batch_id(conn)
        conn.autocommit = False
        spool = Spool(Path(tmp) / "usage_events.csv", "bench", batch_id, STREAMS["usage_events"])
        for row in rows:
            spool.write(dict(zip(columns, row, strict=True)))
        spool.close()
        started = time.perf_counter()
        load_batch(conn, spool, keep_raw=False)
        return len(rows), time.perf_counter() - started


def bench_kpis(url: str, *, new_day: bool = True) -> KpiFigures:
    """Time the KPI build on what staging holds; returns the figures (also printed by main)."""
    with connect(url) as conn:
        conn.autocommit = True
        events, first_at, last_at = conn.execute(
            "SELECT count(*), min(occurred_at), max(occurred_at) FROM staging.usage_events").fetchone()
        (accounts,) = conn.execute("SELECT count(*) FROM staging.crm_accounts").fetchone()
        if not events:
            raise SystemExit("staging.usage_events is empty: run with --fill, or load data first")
        first_day = first_at.astimezone(timezone.utc).date()
        last_day = last_at.astimezone(timezone.utc).date()
        floor_s = _floor(conn)
        conn.autocommit = False
        one_pass_s = _one_pass_floor(conn)

        started = time.perf_counter()
        rows = rebuild_kpis(conn, first_day, last_day)
        conn.commit()
        settle_rebuilt_tables(conn)  # part of a rebuild, as the scoring step runs it
        rebuild_s = time.perf_counter() - started

        started = time.perf_counter()
        build_kpis(conn, last_day)
        day_s = time.perf_counter() - started

        started = time.perf_counter()
        build_kpis(conn, last_day)
        rerun_s = time.perf_counter() - started

    figures = KpiFigures(events, accounts, (last_day - first_day).days + 1, floor_s, one_pass_s, rebuild_s, rows,
                         day_s, rerun_s)
    if new_day:
        next_day = last_day + timedelta(days=1)
        figures.new_day_events, figures.new_day_load_s = _load_new_day(url, next_day)
        with connect(url) as conn:
            started = time.perf_counter()
            build_kpis(conn, next_day)
            figures.new_day_build_s = time.perf_counter() - started
            conn.commit()
            config, version = load_scorecards()
            with conn.transaction():
                register_version(conn, config, version, scorecards_path().read_text(encoding="utf-8"))
            started = time.perf_counter()
            figures.new_day_scored = score_day(conn, next_day, config, version).accounts
            figures.new_day_score_s = time.perf_counter() - started
    return figures


def main(warehouse_url: str | None = None, argv: list[str] | None = None) -> int:
    """With a URL (as bench.run passes it): time that warehouse. Otherwise parse the command line."""
    if warehouse_url is not None:
        print("\n".join(bench_kpis(warehouse_url).lines()))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="time this warehouse as it is")
    parser.add_argument("--fill", action="store_true", help=f"generate data in a scratch database ({SCRATCH_PREFIX}_...)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--shape", choices=("sessions", "uniform"), default="sessions")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--no-new-day", action="store_true", help="skip the new day through the loader")
    args = parser.parse_args(argv)
    if args.url:
        print("\n".join(bench_kpis(args.url, new_day=not args.no_new_day).lines()))
        return 0
    if not args.fill:
        parser.error("give --fill (scratch data) or --url (an existing warehouse)")
    dbname = scratch.unique_name(SCRATCH_PREFIX)
    url = scratch.recreate(dbname, warehouse=True)
    started = time.perf_counter()
    fill(url, events=args.events, accounts=args.accounts, days=args.days, shape=args.shape)
    print(f"scratch data ({args.shape}) generated in {time.perf_counter() - started:.1f} s (not measured below)")
    try:
        print("\n".join(bench_kpis(url, new_day=not args.no_new_day).lines()))
    finally:
        if not args.keep:
            scratch.drop(dbname)
    return 0


if __name__ == "__main__":
    sys.exit(main(argv=sys.argv[1:]))
