"""Product-usage load: the real extract + load path next to a bare COPY of the same file.

Fills a scratch product database with N events for M accounts (server-side),
then, in one process and on the same machine:

- extract: the product_db source's real SQL, streamed COPY-to-COPY into a spool file;
- load: the real loader on that spool (landing, casts and checks, quarantine,
  merge into staging.usage_events with its key, cursor);
- floor: a bare ``COPY`` of the same spool file into an unindexed table.

and prints rows per second with the ratio load / bare COPY.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from customer_health.config.sources import load_sources
from customer_health.sources.base import ConnectionDetails, Spool
from customer_health.sources.postgres import PostgresExtractor
from customer_health.warehouse.db import connect
from customer_health.warehouse.loader import load_batch, new_batch_id, spool_columns


@dataclass
class LoadFigures:
    rows: int
    extract_s: float
    load_s: float
    bare_copy_s: float

    def lines(self) -> list[str]:
        rate = lambda seconds: f"{self.rows / seconds:>12,.0f} rows/s"  # noqa: E731
        return [
            f"usage events: {self.rows:,}",
            f"  extract (source COPY -> spool)   {self.extract_s:7.2f} s {rate(self.extract_s)}",
            f"  load (landing, checks, merge)    {self.load_s:7.2f} s {rate(self.load_s)}",
            f"  bare COPY of the same file       {self.bare_copy_s:7.2f} s {rate(self.bare_copy_s)}",
            f"  load / bare COPY throughput      {self.bare_copy_s / self.load_s:7.2f}",
            f"  extract+load / bare COPY         {self.bare_copy_s / (self.extract_s + self.load_s):7.2f}",
        ]


def bench_usage_load(warehouse_url: str, product_url: str, spool_dir: Path) -> LoadFigures:
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

        started = time.perf_counter()
        result = load_batch(conn, source="product_db", stream=stream.stream, batch_id=batch_id,
                            spool_path=spool.path, keep_raw=source.entry.keep_raw)
        load_s = time.perf_counter() - started

        conn.execute("DROP TABLE IF EXISTS public.bench_bare_copy")
        conn.execute(
            """CREATE TABLE public.bench_bare_copy (_source text, _batch_id bigint, _line bigint, event_id text,
               account_id text, user_id text, event_name text, occurred_at timestamptz, duration_seconds numeric,
               _cursor text)"""
        )
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(
            psycopg.sql.SQL("COPY public.bench_bare_copy ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
                psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, spool_columns(stream.stream)))
            )
        ) as copy, open(spool.path, "rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        bare_s = time.perf_counter() - started
        conn.execute("DROP TABLE public.bench_bare_copy")
        conn.commit()
    return LoadFigures(result.rows_received, extract_s, load_s, bare_s)
