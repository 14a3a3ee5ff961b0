"""Run one stream of one source: extract to a spool file, then load it in one transaction.

Extraction happens outside any warehouse transaction (API paging can take a
while); the load that follows is atomic. This is the body of every
``load_<stream>`` task of the ``ingest_<source>`` DAGs and of
``python -m customer_health ingest``. It holds no SQL: the warehouse loader
reserves the batch id, reads the cursor and loads.
"""
from __future__ import annotations

import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from customer_health.config.sources import ConfiguredSource, load_sources
from customer_health.contracts.streams import STREAMS
from customer_health.sources.base import Spool, looked_back
from customer_health.sources.connections import connection_details
from customer_health.sources.registry import extractor_class
from customer_health.warehouse.db import connect
from customer_health.warehouse.loader import BatchResult, load_batch, loaded_files, new_batch_id, read_cursor

log = logging.getLogger(__name__)


def ingest_stream(
    source_name: str,
    stream_name: str,
    *,
    run_id: str | None = None,
    sources: dict[str, ConfiguredSource] | None = None,
    warehouse_url: str | None = None,
) -> BatchResult:
    sources = sources or load_sources()
    source = sources[source_name]
    configured = source.streams[stream_name]
    cls = extractor_class(source.kind)
    connection = connection_details(source.entry.conn_id) if cls.needs_connection else None
    extractor = cls(source_name, source.options, connection)
    with connect(warehouse_url) as conn:
        conn.autocommit = True
        batch_id = new_batch_id(conn)
        cursor = read_cursor(conn, source_name, stream_name)
        known_files = loaded_files(conn, source_name, stream_name)
        conn.autocommit = False
        checks = configured.checks
        # Re-read the last `lookback` (late records); a time cursor beyond now + the tolerance is ignored.
        extract_from = looked_back(cursor, checks.lookback) if cls.cursor_is_time else cursor
        cursor_limit = datetime.now(UTC) + checks.future_tolerance if cls.cursor_is_time else None
        with tempfile.TemporaryDirectory(prefix=f"spool-{source_name}-{stream_name}-") as tmp:
            spool = Spool(Path(tmp) / "batch.csv", source_name, batch_id, configured.stream, cursor_limit=cursor_limit)
            spool.known_files = known_files
            # Complete by what the stored cursor says (a first load reads everything), not by the lookback.
            spool.complete = extractor.is_complete(configured.stream, configured.options, cursor)
            log.info("extracting %s.%s from cursor %r (stored %r, batch %s)", source_name, stream_name, extract_from,
                     cursor, batch_id)
            try:
                extractor.extract(configured.stream, configured.options, extract_from, spool)
            finally:
                spool.close()
            return load_batch(conn, spool, keep_raw=source.entry.keep_raw, run_id=run_id,
                              future_tolerance=checks.future_tolerance)


def load_released(source_name: str, stream_name: str, *, warehouse_url: str | None = None) -> BatchResult:
    """Load the quarantined rows a person released (``quarantine release``) now, without reading the source.

    The batch is empty of new records: the loader takes the released rows back
    (as it takes rows whose account the CRM now knows), checks them again and
    merges those that pass; the rest are quarantined again with today's reasons.
    The cursor stays where it is.
    """
    with connect(warehouse_url) as conn:
        conn.autocommit = True
        batch_id = new_batch_id(conn)
        conn.autocommit = False
        with tempfile.TemporaryDirectory(prefix=f"release-{source_name}-{stream_name}-") as tmp:
            spool = Spool(Path(tmp) / "batch.csv", source_name, batch_id, STREAMS[stream_name])
            spool.close()
            return load_batch(conn, spool, keep_raw=False, run_id="quarantine-release")
