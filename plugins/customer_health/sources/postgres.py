"""Kind ``postgres``: a product database read with the SELECTs in ``include/sql/extract/``.

Each stream names a SQL file that selects the stream's canonical columns from
the product's own schema (a data engineer adapts only that file). Incremental
streams also select ``_cursor`` (text that sorts in change order) and filter on
``%(cursor)s``, which is NULL on the first run. Rows stream from the source's
``COPY ... TO STDOUT`` straight into the spool file: no Python per row.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator
from psycopg import sql

from customer_health.paths import read_sql, sql_dir
from customer_health.sources.base import Extractor, Spool
from customer_health.sources.streams import Stream
from customer_health.warehouse.db import connect


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

    def extract(self, stream: Stream, options: PostgresStream, cursor: str | None, spool: Spool) -> None:
        columns = sql.SQL(", ").join(sql.SQL("q.{}").format(sql.Identifier(c)) for c in stream.columns)
        cursor_col = sql.SQL("q._cursor::text") if options.incremental else sql.SQL("NULL::text")
        statement = sql.SQL(
            "COPY (SELECT %(source)s, %(batch_id)s, row_number() OVER (), {columns}, {cursor_col} "
            "FROM ({query}) AS q) TO STDOUT (FORMAT csv, HEADER true)"
        ).format(columns=columns, cursor_col=cursor_col, query=sql.SQL(read_sql(options.query).strip().rstrip(";")))
        params = {"source": spool.source, "batch_id": spool.batch_id, "cursor": cursor}
        with connect(self.connection.uri, label=f"source database {self.connection.conn_id!r}") as conn, conn.cursor() as cur, open(spool.path, "wb") as out:
            conn.read_only = True
            with cur.copy(statement, params) as copy:
                for chunk in copy:
                    out.write(chunk)
            spool.rows = max(cur.rowcount, 0)
