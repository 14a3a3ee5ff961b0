"""Kind ``postgres``: a product database read with the SELECTs in ``include/sql/extract/``.

Each stream names a SQL file that selects the stream's canonical columns from
the product's own schema (a data engineer adapts only that file). Incremental
streams also select ``_cursor`` (text that sorts in change order) and filter on
``%(cursor)s``, which is NULL on the first run (the stored cursor minus the
stream's ``lookback``). The cursor is best a column the product writes when a
row arrives (``extract/product_db/usage_events_by_arrival.sql``): then an
event stamped late is still read. Rows stream from the source's
``COPY ... TO STDOUT`` straight into the spool file: no Python per row.
"""
from __future__ import annotations

import psycopg
from psycopg import sql
from pydantic import BaseModel, ConfigDict, model_validator

from customer_health.contracts.streams import Stream
from customer_health.paths import read_sql, sql_dir
from customer_health.sources.base import Extractor, Spool
from customer_health.warehouse.db import connect
from customer_health.warehouse.sqlfiles import sql_statement


class PostgresStream(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    query: str
    """Path of the SELECT under include/sql, e.g. extract/product_db/usage_events.sql."""
    incremental: bool = False

    @model_validator(mode="after")
    def _query_fits(self):
        path = sql_dir() / self.query
        if not path.is_file():
            raise ValueError(f"query file {self.query!r} not found under {sql_dir()}")
        text = path.read_text(encoding="utf-8")
        if self.incremental and ("%(cursor)s" not in text or "_cursor" not in text):
            raise ValueError(
                f"incremental query {self.query!r} must select a _cursor column and filter on %(cursor)s"
            )
        return self


class PostgresExtractor(Extractor):
    kind = "postgres"
    StreamOptions = PostgresStream

    def is_complete(self, stream: Stream, options: PostgresStream, cursor: str | None) -> bool:
        # A query without a cursor reads the whole table in one snapshot.
        return not options.incremental

    def extract(self, stream: Stream, options: PostgresStream, cursor: str | None, spool: Spool) -> None:
        query = sql.SQL(read_sql(options.query).strip().rstrip(";"))
        columns = sql.SQL(", ").join(sql.SQL("q.{}").format(sql.Identifier(c)) for c in stream.columns)
        limit = spool.cursor_limit
        params = {"source": spool.source, "batch_id": spool.batch_id, "cursor": cursor,
                  "cursor_limit": limit.strftime("%Y-%m-%dT%H:%M:%S.%f") if limit else None}
        rows = sql_statement("sources/postgres/stream_rows.sql", columns=columns, query=query)
        label = f"source database {self.connection.conn_id!r}"
        spool.annotated = False  # COPY output carries the stream's columns only (stream_rows.sql)
        with connect(self.connection.uri, label=label) as conn:
            # One snapshot for the types, the cursor and the rows: the stored
            # cursor is then exactly the newest change this batch holds.
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction(), psycopg.ClientCursor(conn) as cur:
                # Dates and times leave in ISO 8601 whatever the server's default style.
                cur.execute("SET LOCAL DateStyle = 'ISO, YMD'")  # allowlisted bookkeeping
                cur.execute(sql_statement("sources/postgres/describe_rows.sql", rows=rows), params)
                spool.source_types = {
                    column: _type_name(conn, described.type_code)
                    for column, described in zip(stream.columns, cur.description[2:], strict=True)
                }
                if options.incremental:
                    cur.execute(sql_statement("sources/postgres/batch_cursor.sql", query=query), params)
                    spool.advance_cursor(cur.fetchone()[0])
                copy_out = sql_statement("sources/postgres/copy_rows_out.sql", rows=rows)
                with cur.copy(copy_out, params) as copy, open(spool.path, "wb") as out:
                    for chunk in copy:
                        out.write(chunk)
                spool.rows = max(cur.rowcount, 0)


def _type_name(conn: psycopg.Connection, oid: int) -> str:
    """Postgres type name of a result column (``timestamptz``, ``numeric``, ``text``, ...)."""
    info = conn.adapters.types.get(oid)
    return info.name if info is not None else f"oid {oid}"
