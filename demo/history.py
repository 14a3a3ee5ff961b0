"""Dated snapshots of the demo's CRM and product: the warehouse as if it had been loading all along.

A warehouse keeps the history of snapshot streams (CRM accounts, contracts,
licences, users) from its own loads (``history.<stream>``), so a past day's
KPIs read what was known that day. The demo's world is generated in one go and
its sources are loaded once, at the end: without more, every past day would
read the final state (a churned account's licence at 0 seats on every day
before it churned), which is the leakage the evaluation must never see.

So the generator also writes the four streams as they stood every
:data:`EVERY_DAYS` days of the window (``snapshots/<stream>_<YYYYMMDD>.csv``,
canonical columns; the planted bad rows are left out, they are the real
loads' business): the first date whole, each later one with only the rows
that are new or changed since the one before (the demo's world deletes no
row: a removed user gets ``deactivated_at``, a churned licence 0 seats), which
keeps ``make demo`` within seconds. ``make demo`` loads them, oldest first,
through the real loader, observed the night after each date (the first as a
complete snapshot, the rest as incremental pages), before the ingest DAGs
run; those then find the same end state. A warehouse whose history of a
stream already has rows (a second run) loads none of that stream's snapshots
again: history only moves forward. The KPIs then lag the world by up to
:data:`EVERY_DAYS` days, never lead it.
"""
from __future__ import annotations

import csv
import logging
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import psycopg

from customer_health.contracts.streams import STREAMS
from customer_health.sources.base import Spool
from customer_health.warehouse.loader import load_batch, new_batch_id
from demo import crm
from demo.world import World

log = logging.getLogger(__name__)

EVERY_DAYS = 30
# The source each stream comes from in sources.yml, so the rows read as that source's.
SOURCES = {"crm_accounts": "crm", "crm_contracts": "crm", "licences": "product_db", "users": "product_db"}
OBSERVED_AT = time(2, tzinfo=UTC)  # the nightly load after the snapshot's day


def snapshot_days(start: date, end: date) -> list[date]:
    days = [start + timedelta(days=n) for n in range(0, (end - start).days + 1, EVERY_DAYS)]
    return days if days[-1] == end else [*days, end]


def snapshot_rows(world: World, day: date) -> dict[str, list[dict]]:
    """The four streams in canonical columns as they stood at the end of ``day``."""
    existing = [a for a in world.accounts if a.exists_on(day)]
    canonical = crm.canonical_rows({
        "companies": [crm._company(a, day) for a in existing],
        "deals": [d for a in existing for d in crm._deals(a, day)],
        "p_csm_sentiment": [], "owners": [],
    })
    return {
        "crm_accounts": canonical["accounts"],
        "crm_contracts": canonical["contracts"],
        "licences": [{"account_id": a.company_id, "seats": a.seats_on(day)} for a in existing],
        "users": [{"user_id": str(m.member_id), "account_id": a.company_id, "created_at": m.created_at.isoformat(),
                   "deactivated_at": m.removed_at.isoformat() if m.removed_at and m.removed_at.date() <= day else None,
                   "role": m.role}
                  for a in existing for m in a.members if m.created_at.date() <= day],
    }


def write_snapshots(out: Path, world: World, start: date, end: date) -> int:
    """Write the snapshot files (the first date whole, later ones as changes); returns how many."""
    folder = out / "snapshots"
    folder.mkdir(parents=True, exist_ok=True)
    previous: dict[str, dict[tuple, list[str]]] = {}
    written = 0
    for day in snapshot_days(start, end):
        for stream, rows in snapshot_rows(world, day).items():
            columns, key = STREAMS[stream].columns, STREAMS[stream].key
            texts = {tuple(str(row[k]) for k in key): ["" if row[c] is None else str(row[c]) for c in columns]
                     for row in rows}
            before = previous.get(stream, {})
            changed = [t for k, t in texts.items() if before.get(k) != t]
            previous[stream] = texts
            with (folder / f"{stream}_{day:%Y%m%d}.csv").open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(columns)
                writer.writerows(changed)
            written += 1
    return written


def load_snapshots(url: str, folder: Path) -> int:
    """Load the snapshot files oldest first (CRM accounts before the streams that need them); returns the
    batches loaded. Streams whose history already has rows, and snapshots dated after now, are skipped."""
    now = datetime.now(UTC)
    loaded = 0
    with psycopg.connect(url, autocommit=True) as conn:
        started = {r[0] for r in conn.execute(
            "SELECT stream FROM meta.snapshot_history_start WHERE first_loaded_at IS NOT NULL")}
        files = sorted(folder.glob("*_*.csv"), key=lambda p: (p.stem.rsplit("_", 1)[1], list(SOURCES).index(
            p.stem.rsplit("_", 1)[0])))
        first_files = {}
        for path in files:
            first_files.setdefault(path.stem.rsplit("_", 1)[0], path)
        for path in files:
            stream_name, stamp = path.stem.rsplit("_", 1)
            observed = datetime.combine(datetime.strptime(stamp, "%Y%m%d").date() + timedelta(days=1), OBSERVED_AT)
            if stream_name in started or observed > now:
                continue
            batch_id = new_batch_id(conn)
            conn.autocommit = False
            with tempfile.TemporaryDirectory() as tmp, path.open(newline="", encoding="utf-8") as f:
                spool = Spool(Path(tmp) / "batch.csv", SOURCES[stream_name], batch_id, STREAMS[stream_name])
                for row in csv.DictReader(f):
                    spool.write({k: (v or None) for k, v in row.items()})
                spool.close()
                spool.complete, spool.observed_at = path == first_files[stream_name], observed
                load_batch(conn, spool, keep_raw=False)
            conn.autocommit = True
            loaded += 1
    return loaded
