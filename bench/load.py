"""Product-usage load: the real extract + load path next to a bare COPY of the same file.

Fills a scratch product database with N events for M accounts (server-side),
then, in one process and on the same machine:

- extract: the product_db source's real SQL, streamed COPY-to-COPY into a spool file;
- load: the real loader on that spool, into an empty ``staging.usage_events``
  (a backfill: the bulk path, with the key and time indexes built after);
- floor: a bare ``COPY`` of the same spool file into a table with the columns
  and defaults of ``staging.usage_events`` but no key, index or check, run
  before and after the load (the better time counts);
- with ``naive``: a plain ``COPY`` of the same file into a table shaped like
  ``staging.usage_events`` (its constraints and indexes, kept up to date row by row);
- with ``careful``: the same batch again through the careful path (value by
  value), as a batch smaller than its table would go;

and prints rows per second with the ratios.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from customer_health.config.sources import load_sources
from customer_health.sources.base import ConnectionDetails, Spool
from customer_health.sources.postgres import PostgresExtractor
from customer_health.warehouse.db import connect
from customer_health.warehouse.loader import BatchResult, load_batch, new_batch_id

BARE_TABLE = "public.bench_bare_copy"


@dataclass
class LoadFigures:
    rows: int
    extract_s: float
    load_s: float
    bare_copy_s: float
    naive_copy_s: float | None
    careful_s: float | None
    result: BatchResult

    def lines(self) -> list[str]:
        rate = lambda seconds: f"{self.rows / seconds:>12,.0f} rows/s"  # noqa: E731
        lines = [
            f"usage events: {self.rows:,} (inserted {self.result.rows_inserted:,}, "
            f"quarantined {self.result.rows_quarantined:,})",
            f"  extract (source COPY -> spool)          {self.extract_s:7.2f} s {rate(self.extract_s)}",
            f"  load (checks, staging, key + indexes)   {self.load_s:7.2f} s {rate(self.load_s)}",
            f"    {self.result.path} path" + "".join(f", {name} {s:.2f} s" for name, s in self.result.steps.items()),
            f"  bare COPY of the same file, no indexes  {self.bare_copy_s:7.2f} s {rate(self.bare_copy_s)}",
            f"  load / bare COPY throughput             {self.bare_copy_s / self.load_s:7.2f}",
            f"  extract+load / bare COPY                {self.bare_copy_s / (self.extract_s + self.load_s):7.2f}",
        ]
        if self.naive_copy_s is not None:
            lines += [
                f"  COPY into a table like staging          {self.naive_copy_s:7.2f} s {rate(self.naive_copy_s)}",
                f"  load / that COPY throughput             {self.naive_copy_s / self.load_s:7.2f}",
            ]
        if self.careful_s is not None:
            lines += [
                f"  the same batch by the careful path      {self.careful_s:7.2f} s {rate(self.careful_s)}",
                f"  careful / bare COPY throughput          {self.bare_copy_s / self.careful_s:7.2f}",
            ]
        return lines


def bench_usage_load(warehouse_url: str, product_url: str, spool_dir: Path, *, naive: bool = False,
                     careful: bool = False) -> LoadFigures:
    source = load_sources()["product_db"]
    stream = source.streams["usage_events"]
    extractor = PostgresExtractor("product_db", source.options, ConnectionDetails("product_db", uri=product_url))
    with connect(warehouse_url) as conn:
        conn.autocommit = True
        batch_id = new_batch_id(conn)
        conn.autocommit = False
        spool = Spool(spool_dir / "usage_events.csv", "product_db", batch_id, stream.stream)
        started = time.perf_counter()
        extractor.extract(stream.stream, stream.options, None, spool)
        spool.close()
        extract_s = time.perf_counter() - started

        bare_before = _copy_into_table_like_staging(conn, spool, "DEFAULTS")
        _checkpoint(conn)
        started = time.perf_counter()
        result = load_batch(conn, spool, keep_raw=source.entry.keep_raw)
        load_s = time.perf_counter() - started
        bare_after = _copy_into_table_like_staging(conn, spool, "DEFAULTS")
        naive_s = _copy_into_table_like_staging(conn, spool, "ALL") if naive else None
        careful_s = _careful_load(conn, spool) if careful else None
    return LoadFigures(result.rows_received, extract_s, load_s, min(bare_before, bare_after), naive_s, careful_s,
                       result)


def _careful_load(conn, spool: Spool) -> float:
    """Load the same batch again into an emptied staging table, value by value (the bulk path turned off)."""
    conn.execute("TRUNCATE staging.usage_events")
    conn.execute("DELETE FROM meta.source_state WHERE batch_id = %s", [spool.batch_id])
    conn.execute("DELETE FROM meta.load_batches WHERE batch_id = %s", [spool.batch_id])
    _checkpoint(conn)
    started = time.perf_counter()
    load_batch(conn, spool, keep_raw=False, allow_bulk=False)
    return time.perf_counter() - started


def _timed_copy(conn, spool: Spool, table: str) -> float:
    columns = sql.SQL(", ").join(map(sql.Identifier, spool.header))
    _checkpoint(conn)
    started = time.perf_counter()
    with conn.cursor() as cur, cur.copy(
        sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(sql.Identifier(*table.split(".")), columns)
    ) as copy, open(spool.path, "rb") as f:
        while chunk := f.read(1 << 20):
            copy.write(chunk)
    conn.commit()
    return time.perf_counter() - started


def _checkpoint(conn) -> None:
    """Start each timed step with the WAL flushed, so none pays for the one before (needs pg_checkpoint)."""
    try:
        conn.execute("CHECKPOINT")
        conn.commit()
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()


def _copy_into_table_like_staging(conn, spool: Spool, including: str) -> float:
    """Time a COPY into a fresh table made ``LIKE staging.usage_events INCLUDING <including>``.

    ``DEFAULTS``: the bare floor, staging's columns and defaults and nothing else
    (no key, index or check). ``ALL``: its key, checks and indexes too, kept up to
    date row by row, as a plain COPY into staging would.
    """
    conn.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}")
    conn.execute(f"CREATE TABLE {BARE_TABLE} (LIKE staging.usage_events INCLUDING {including})")
    conn.commit()
    try:
        return _timed_copy(conn, spool, BARE_TABLE)
    finally:
        conn.execute(f"DROP TABLE {BARE_TABLE}")
        conn.commit()
