"""The demo product's own database: schema ``app``, shaped like a real SaaS
product's tables rather than the pipeline's canonical streams, so the
pipeline's extraction SQL has real mapping to do.

Loading replaces the schema in one transaction (a failed run leaves the
previous data), bulk-loads with COPY, and only then adds keys and the
``events(created_at)`` index and runs ANALYZE, which is the fast order for a
bulk load. The database itself is created if missing.

Planted bad rows: organisation 1 (the vendor's QA sandbox) has no
``crm_company_id``, so its events map to no account; organisation 2 points at
a CRM company that no longer exists.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from demo.world import ORPHAN_ORG_ID, SANDBOX_ORG_ID, Account, World, day_events

TABLES = """
DROP SCHEMA IF EXISTS app CASCADE;
CREATE SCHEMA app;
CREATE TABLE app.organizations (
    id bigint NOT NULL,
    crm_company_id text,
    name text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE app.members (
    id bigint NOT NULL,
    organization_id bigint NOT NULL,
    email text NOT NULL,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at timestamptz NOT NULL,
    removed_at timestamptz
);
CREATE TABLE app.subscriptions (
    organization_id bigint NOT NULL,
    seats integer NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE TABLE app.events (
    id bigint NOT NULL,
    organization_id bigint NOT NULL,
    member_id bigint NOT NULL,
    name text NOT NULL,
    created_at timestamptz NOT NULL,
    duration_ms integer NOT NULL
);
"""

KEYS = """
ALTER TABLE app.organizations ADD PRIMARY KEY (id);
ALTER TABLE app.members ADD PRIMARY KEY (id);
ALTER TABLE app.subscriptions ADD PRIMARY KEY (organization_id);
ALTER TABLE app.events ADD PRIMARY KEY (id);
CREATE INDEX events_created_at_idx ON app.events (created_at);
ANALYZE app.organizations, app.members, app.subscriptions, app.events;
"""

COPY_CHUNK_BYTES = 1 << 20
BAD_ROWS = (
    {"source": "product_db", "stream": "organizations", "kind": "null_crm_company_id",
     "id": str(SANDBOX_ORG_ID)},
    {"source": "product_db", "stream": "organizations", "kind": "unknown_crm_company_id",
     "id": str(ORPHAN_ORG_ID)},
)


def ensure_database(url: str) -> None:
    """Create the URL's database if missing, via the ``postgres`` maintenance database."""
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def load(url: str, world: World, start: date, end: date, seed: int) -> dict[str, int]:
    """Replace schema ``app`` with the world's product data as of ``end``."""
    ensure_database(url)
    organizations = [a for a in (*world.stray, *world.accounts) if a.exists_on(end)]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        create_tables(cur)
        counts = {
            "organizations": _copy_rows(cur, "organizations", (
                "id", "crm_company_id", "name", "created_at"), [
                (a.org_id, a.company_id, a.name, a.created_at) for a in organizations
            ]),
            "members": _copy_rows(cur, "members", (
                "id", "organization_id", "email", "role", "created_at", "removed_at"), [
                (m.member_id, a.org_id, m.email, m.role, m.created_at,
                 m.removed_at if m.removed_at and m.removed_at.date() <= end else None)
                for a in organizations for m in a.members if m.created_at.date() <= end
            ]),
            "subscriptions": _copy_rows(cur, "subscriptions", (
                "organization_id", "seats", "updated_at"), [
                (a.org_id, a.seats_on(end), _seats_updated(a, end)) for a in organizations
            ]),
        }
        events_by_org = _copy_events(cur, organizations, start, end, seed)
        add_keys(cur)
    counts["events"] = sum(events_by_org.values())
    counts["events_without_account"] = events_by_org.get(SANDBOX_ORG_ID, 0)
    counts["events_unknown_account"] = events_by_org.get(ORPHAN_ORG_ID, 0)
    return counts


def create_tables(cur: psycopg.Cursor) -> None:
    cur.execute(TABLES)


def add_keys(cur: psycopg.Cursor) -> None:
    cur.execute(KEYS)


def _seats_updated(account: Account, end: date) -> datetime:
    changed = max(day for day in account.seat_changes() if day <= end)
    return datetime.combine(changed, account.created_at.timetz())


def _copy_rows(cur: psycopg.Cursor, table: str, columns: tuple[str, ...], rows: list) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier("app", table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


def _copy_events(cur: psycopg.Cursor, organizations: list[Account], start: date, end: date,
                 seed: int) -> dict[int, int]:
    """Stream each organisation-day's events into COPY as text; returns counts per org."""
    counts: dict[int, int] = {}
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    buffer: list[str] = []
    size = 0
    with cur.copy("COPY app.events (id, organization_id, member_id, name, created_at, "
                  "duration_ms) FROM STDIN") as copy:
        for account in organizations:
            org = account.org_id
            for day in days:
                events = day_events(account, day, seed)
                if not events:
                    continue
                counts[org] = counts.get(org, 0) + len(events)
                prefix = f"\t{org}\t"
                stamp = day.isoformat()
                for eid, member, name, second, duration in events:
                    hours, rest = divmod(second, 3600)
                    line = (f"{eid}{prefix}{member}\t{name}\t{stamp} "
                            f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}+00\t{duration}\n")
                    buffer.append(line)
                    size += len(line)
                if size >= COPY_CHUNK_BYTES:
                    copy.write("".join(buffer))
                    buffer, size = [], 0
        copy.write("".join(buffer))
    return counts
