"""Big, plain event volumes for the benchmark (``make bench``), made fast.

The demo generator simulates behaviour and tops out around a million events;
a benchmark needs ten million and does not care about the story. So:

- ``write_events_file`` writes a canonical ``usage_events`` CSV (for the CSV
  adapters) a day at a time, drawing each column for the whole day in one
  ``random.choices`` call; rows come in time order like a real export.
- ``fill_product_db_bulk`` fills the product schema ``app`` entirely inside
  Postgres (``INSERT ... SELECT`` over ``generate_series``), then adds keys and
  the index and runs ANALYZE, as the demo loader does.

Both are seeded and use the demo's id scheme (CRM company ids, product
organisation and member ids), so their rows join the demo CRM data of the
same account count.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import psycopg

from demo.generate import DEFAULT_DAYS, DEFAULT_END_DATE, DEFAULT_SEED
from demo.product_db import add_keys, create_tables, ensure_database
from demo.world import FEATURE_WEIGHTS, company_id, member_id, org_id

USERS_PER_ACCOUNT = 20
EVENT_WEIGHTS = {"login": 30, **FEATURE_WEIGHTS, "member_invited": 1}
CSV_HEADER = "event_id,account_id,user_id,event_name,occurred_at,duration_seconds\n"


def write_events_file(path: str | Path, accounts: int, events: int, seed: int = DEFAULT_SEED,
                      days: int = DEFAULT_DAYS, end_date: date = DEFAULT_END_DATE) -> int:
    """Write ``events`` usage events for ``accounts`` accounts over the ``days``
    days ending on ``end_date``; returns the number of rows written."""
    rng = random.Random(f"{seed}:bench-events")
    account_ids = [company_id(i) for i in range(accounts)]
    user_ids = [[str(member_id(org_id(i), k)) for k in range(1, USERS_PER_ACCOUNT + 1)]
                for i in range(accounts)]
    names = list(EVENT_WEIGHTS)
    cumulative = [sum(list(EVENT_WEIGHTS.values())[:n + 1]) for n in range(len(names))]
    clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
    per_day, remainder = divmod(events, days)
    first_day = end_date - timedelta(days=days - 1)
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(CSV_HEADER)
        for offset in range(days):
            count = per_day + (offset < remainder)
            stamp = (first_day + timedelta(days=offset)).isoformat()
            seconds = sorted(rng.choices(range(86_400), k=count))
            owners = rng.choices(range(accounts), k=count)
            users = rng.choices(range(USERS_PER_ACCOUNT), k=count)
            kinds = rng.choices(names, cum_weights=cumulative, k=count)
            durations = rng.choices(range(1, 900), k=count)
            f.write("".join(
                f"{written + n + 1},{account_ids[a]},{user_ids[a][u]},{kind},"
                f"{stamp}T{clock[s]}Z,{duration}\n"
                for n, (a, u, kind, s, duration)
                in enumerate(zip(owners, users, kinds, seconds, durations, strict=True))
            ))
            written += count
    return written


def fill_product_db_bulk(url: str, accounts: int, events: int, seed: int = DEFAULT_SEED,
                         days: int = DEFAULT_DAYS,
                         end_date: date = DEFAULT_END_DATE) -> dict[str, int]:
    """Replace schema ``app`` with ``accounts`` organisations (20 members each)
    and ``events`` events spread over the window, generated server-side."""
    ensure_database(url)
    window_end = datetime.combine(end_date + timedelta(days=1), time(), UTC)
    weighted_names = [name for name, weight in EVENT_WEIGHTS.items() for _ in range(weight)]
    params = {
        "accounts": accounts,
        "events": events,
        "users": USERS_PER_ACCOUNT,
        "first_org": org_id(0),
        "first_company": int(company_id(0)),
        "member_base": member_id(1, 0),  # member id = organisation id * member_base + number
        "signed": window_end - timedelta(days=days + 30),
        "window_end": window_end,
        "span": timedelta(days=days),
        "names": weighted_names,
        "seed": (seed % 2001 - 1000) / 1000,  # setseed takes [-1, 1]
    }
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        create_tables(cur)
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # random() is repeatable after setseed as long as the calls stay in one session.
        cur.execute("SELECT setseed(%(seed)s)", params)
        cur.execute("""
            INSERT INTO app.organizations (id, crm_company_id, name, created_at)
            SELECT %(first_org)s + g, (%(first_company)s + g)::text,
                   'Benchmark organisation ' || g, %(signed)s
            FROM generate_series(0, %(accounts)s - 1) AS g
        """, params)
        cur.execute("""
            INSERT INTO app.members (id, organization_id, email, role, created_at)
            SELECT o.id * %(member_base)s + k, o.id, 'user' || k || '@org' || o.id || '.example',
                   CASE WHEN k = 1 THEN 'owner' ELSE 'member' END, o.created_at
            FROM app.organizations AS o, generate_series(1, %(users)s) AS k
        """, params)
        cur.execute("""
            INSERT INTO app.subscriptions (organization_id, seats, updated_at)
            SELECT id, %(users)s, created_at FROM app.organizations
        """, params)
        cur.execute("""
            INSERT INTO app.events (id, organization_id, member_id, name, created_at, duration_ms)
            SELECT g, org,
                   org * %(member_base)s + 1 + floor(random() * %(users)s)::int,
                   (%(names)s::text[])[1 + floor(random() * cardinality(%(names)s::text[]))::int],
                   %(window_end)s - random() * %(span)s,
                   500 + floor(random() * 900000)::int
            FROM (SELECT g, %(first_org)s + floor(random() * %(accounts)s)::bigint AS org
                  FROM generate_series(1, %(events)s) AS g) AS drawn
        """, params)
        add_keys(cur)
    return {"organizations": accounts, "members": accounts * USERS_PER_ACCOUNT,
            "events": events}
