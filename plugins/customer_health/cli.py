"""Command line: ``python -m customer_health <command>``.

    migrate                     apply pending warehouse migrations
    validate-config             check every YAML in include/config, print problems
    ingest SOURCE [STREAM ...]  run a source's loads outside Airflow (debugging)
    quarantine [--source S]     show what was quarantined, grouped by reason
"""
from __future__ import annotations

import argparse
import logging
import sys

from customer_health.config import ConfigError
from customer_health.warehouse.db import WarehouseUnavailable, connect, describe, ensure_database, warehouse_url
from customer_health.warehouse.migrate import migrate


def cmd_migrate(_args) -> int:
    url = warehouse_url()
    if ensure_database(url):
        print(f"created database {describe(url)}")
    with connect(url) as conn:
        applied = migrate(conn)
    print("\n".join(f"applied {name}" for name in applied) or f"{describe(url)}: schema up to date")
    return 0


def cmd_validate_config(_args) -> int:
    from customer_health.config.sources import load_sources

    sources = load_sources()
    print(f"sources.yml: {len(sources)} sources, {sum(len(s.streams) for s in sources.values())} streams - OK")
    return 0


def cmd_ingest(args) -> int:
    from customer_health.config.sources import load_sources
    from customer_health.sources.ingest import ingest_stream

    sources = load_sources()
    if args.source not in sources:
        print(f"unknown source {args.source!r}; sources.yml has: {', '.join(sources)}", file=sys.stderr)
        return 2
    streams = args.streams or list(sources[args.source].streams)
    for stream in streams:
        result = ingest_stream(args.source, stream, sources=sources, run_id="cli")
        print(
            f"{args.source}.{stream}: received {result.rows_received}, inserted {result.rows_inserted}, "
            f"updated {result.rows_updated}, unchanged {result.rows_unchanged}, quarantined {result.rows_quarantined}"
        )
    return 0


def cmd_quarantine(args) -> int:
    with connect() as conn:
        rows = conn.execute(
            """SELECT source, stream, reason, count(*) AS n, min(record_key) AS example
               FROM meta.quarantine WHERE released_in_batch IS NULL AND (%(source)s::text IS NULL OR source = %(source)s)
               GROUP BY 1, 2, 3 ORDER BY 1, 2, n DESC""",
            {"source": args.source},
        ).fetchall()
    for source, stream, reason, n, example in rows:
        print(f"{source}.{stream}: {n} x {reason} (e.g. {example})")
    if not rows:
        print("quarantine is empty")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m customer_health", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply pending warehouse migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("validate-config", help="validate include/config").set_defaults(func=cmd_validate_config)
    ingest = sub.add_parser("ingest", help="run one source's loads outside Airflow")
    ingest.add_argument("source")
    ingest.add_argument("streams", nargs="*")
    ingest.set_defaults(func=cmd_ingest)
    quarantine = sub.add_parser("quarantine", help="summarise quarantined rows")
    quarantine.add_argument("--source")
    quarantine.set_defaults(func=cmd_quarantine)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (ConfigError, WarehouseUnavailable) as exc:
        print(exc, file=sys.stderr)
        return 2
