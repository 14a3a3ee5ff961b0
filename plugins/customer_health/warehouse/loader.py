"""Load one extracted batch of one stream: raw landing, contract checks, staging merge.

Everything for a batch happens in ONE transaction, so a run killed half-way
leaves the previous state and a rerun of the same data leaves the same state:

1. ``COPY`` the spool file (CSV written by an extractor) into the landing table
   (``raw.<stream>``, or a temporary table when the source keeps no raw copy).
2. Cast and check the batch with ``include/sql/staging/<stream>.sql``.
3. Add the checks every stream shares: the account must be known to the CRM,
   one key must not arrive twice with different content, and an immutable row
   must not change after it was loaded.
4. Rows with reasons go to ``meta.quarantine`` with their raw payload; the rest
   are merged into ``staging.<stream>`` (insert new keys, update changed rows
   of mutable streams, leave identical rows alone).
5. Record the batch and advance the source's cursor.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from customer_health.paths import read_sql
from customer_health.sources.streams import Stream

log = logging.getLogger(__name__)

SPOOL_PREFIX_COLUMNS = ("_source", "_batch_id", "_line")
COPY_CHUNK = 1 << 20
_UNKNOWN_ACCOUNT = sql.SQL("format('unknown account_id %%s (not in the CRM accounts)', quote_literal(c.account_id))")


@dataclass
class BatchResult:
    source: str
    stream: str
    batch_id: int
    cursor_from: str | None
    cursor_to: str | None
    rows_received: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_quarantined: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def spool_columns(stream: Stream) -> tuple[str, ...]:
    """Column order of a spool file and of the COPY into the landing table."""
    return (*SPOOL_PREFIX_COLUMNS, *stream.columns, "_cursor")


def new_batch_id(conn: psycopg.Connection) -> int:
    """Reserve a batch id before extracting, so the spool can carry it."""
    return conn.execute("SELECT nextval('meta.load_batches_batch_id_seq')").fetchone()[0]


def read_cursor(conn: psycopg.Connection, source: str, stream: str) -> str | None:
    row = conn.execute(
        "SELECT cursor FROM meta.source_state WHERE source = %s AND stream = %s", [source, stream]
    ).fetchone()
    return row[0] if row else None


def _ident_list(names) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _qualified(table: str) -> sql.Identifier:
    return sql.Identifier(*table.split("."))


def _key_text(stream: Stream, alias: str) -> sql.Composable:
    parts = [sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(k)) for k in stream.key]
    return sql.SQL("concat_ws('/', {})").format(sql.SQL(", ").join(parts))


def _row(stream: Stream, alias: str, columns=None) -> sql.Composable:
    cols = columns or stream.columns
    return sql.SQL("ROW({})").format(
        sql.SQL(", ").join(sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(c)) for c in cols)
    )


def _key_match(stream: Stream, left: str, right: str) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{l}.{k} = {r}.{k}").format(l=sql.Identifier(left), r=sql.Identifier(right), k=sql.Identifier(k))
        for k in stream.key
    )


def load_batch(
    conn: psycopg.Connection,
    *,
    source: str,
    stream: Stream,
    batch_id: int,
    spool_path: Path,
    keep_raw: bool = True,
    run_id: str | None = None,
) -> BatchResult:
    """Load one spool file as batch ``batch_id``; commits once, at the end."""
    # One load per staging table at a time, whichever source feeds it: the merge
    # below reads staging to decide what is new.
    lock_name = f"customer_health.load.{stream.name}"
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [lock_name])
        conn.execute("SET LOCAL work_mem = '256MB'")
        cursor_from = read_cursor(conn, source, stream.name)
        result = BatchResult(source, stream.name, batch_id, cursor_from, cursor_from)
        conn.execute(
            "INSERT INTO meta.load_batches (batch_id, source, stream, run_id, cursor_from) VALUES (%s, %s, %s, %s, %s)",
            [batch_id, source, stream.name, run_id, cursor_from],
        )
        landing = _land(conn, stream, spool_path, keep_raw)
        if stream.requires_known_account:
            _release_rows_awaiting_accounts(conn, source, stream, batch_id, landing)
        result.rows_received = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE _batch_id = %s").format(landing), [batch_id]
        ).fetchone()[0]
        _cast_and_check(conn, stream, landing, batch_id)
        _flag_shared_contract_breaks(conn, stream)
        result.rows_quarantined = _quarantine(conn, source, stream, batch_id, landing)
        result.rows_inserted, result.rows_updated = _merge(conn, source, stream, batch_id)
        result.rows_unchanged = result.rows_received - result.rows_quarantined - result.rows_inserted - result.rows_updated
        result.cursor_to = _advance_cursor(conn, source, stream, batch_id, landing, cursor_from)
        conn.execute(
            """UPDATE meta.load_batches SET finished_at = clock_timestamp(), cursor_to = %(cursor_to)s,
                   rows_received = %(rows_received)s, rows_inserted = %(rows_inserted)s,
                   rows_updated = %(rows_updated)s, rows_unchanged = %(rows_unchanged)s,
                   rows_quarantined = %(rows_quarantined)s
               WHERE batch_id = %(batch_id)s""",
            result.as_dict(),
        )
    log.info("loaded %s", result.as_dict())
    return result


def _land(conn: psycopg.Connection, stream: Stream, spool_path: Path, keep_raw: bool) -> sql.Composable:
    if keep_raw:
        landing = _qualified(stream.raw_table)
    else:
        # The source can be read again (a database): land in a temporary table, skip the WAL.
        landing = sql.Identifier("_landing")
        conn.execute(
            sql.SQL("CREATE TEMP TABLE _landing (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
                _qualified(stream.raw_table)
            )
        )
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
        landing, _ident_list(spool_columns(stream))
    )
    with conn.cursor() as cur, cur.copy(copy_sql) as copy, open(spool_path, "rb") as spool:
        while chunk := spool.read(COPY_CHUNK):
            copy.write(chunk)
    conn.execute(sql.SQL("ANALYZE {}").format(landing))
    return landing


def _cast_and_check(conn: psycopg.Connection, stream: Stream, landing, batch_id: int) -> None:
    """Build ``_candidates``: the batch cast to canonical types, with the reasons each row cannot load.

    Plain casts first (fast, but they raise on the first bad value); on a data
    error the savepoint rolls back and the exact per-value casts run instead.
    Both accept the same values (see util.try_* in V001).
    """
    create = sql.SQL("CREATE TEMP TABLE _candidates ON COMMIT DROP AS {}").format(
        sql.SQL(read_sql(f"staging/{stream.name}.sql")).format(landing=landing)
    )
    try:
        with conn.transaction():
            conn.execute("SET LOCAL customer_health.fast_casts = 'on'")
            conn.execute(create, {"batch_id": batch_id})
            conn.execute("SET LOCAL customer_health.fast_casts = 'off'")
    except psycopg.DataError as exc:  # any SQLSTATE of class 22, e.g. 22008 for 2026-02-30
        log.info("%s: a value does not cast (%s); checking the batch value by value", stream.name, exc.diag.message_primary)
        conn.execute(create, {"batch_id": batch_id})
    conn.execute("ANALYZE _candidates")


def _release_rows_awaiting_accounts(conn, source: str, stream: Stream, batch_id: int, landing) -> None:
    """Take back rows quarantined only because their account was not in the CRM yet, once it is.

    Sources load on their own schedules, so usage can arrive before the CRM
    knows a new account. Those rows rejoin this batch (after its own lines)
    and go through every check again.
    """
    cols = _ident_list(stream.columns)
    from_payload = sql.SQL(", ").join(sql.SQL("q.payload ->> {}").format(sql.Literal(c)) for c in stream.columns)
    released = conn.execute(
        sql.SQL(
            """WITH released AS (
                   UPDATE meta.quarantine AS q SET released_in_batch = %(batch_id)s
                   FROM staging.crm_accounts AS a
                   WHERE q.source = %(source)s AND q.stream = %(stream)s
                     AND q.awaiting_account IS NOT NULL AND q.released_in_batch IS NULL
                     AND a.account_id = q.awaiting_account
                   RETURNING q.quarantine_id, q.payload)
               INSERT INTO {landing} (_source, _batch_id, _line, {cols})
               SELECT %(source)s, %(batch_id)s,
                      (SELECT coalesce(max(_line), 0) FROM {landing} WHERE _batch_id = %(batch_id)s)
                        + row_number() OVER (ORDER BY q.quarantine_id),
                      {from_payload}
               FROM released AS q"""
        ).format(landing=landing, cols=cols, from_payload=from_payload),
        {"source": source, "stream": stream.name, "batch_id": batch_id},
    ).rowcount
    if released:
        log.info("%s.%s: %d quarantined rows whose account is now known rejoin batch %s", source, stream.name, released, batch_id)


def _add_reason(conn: psycopg.Connection, reason: sql.Composable, where: sql.Composable) -> None:
    conn.execute(
        sql.SQL("UPDATE _candidates AS c SET _reasons = c._reasons || {} WHERE {}").format(reason, where),
        {},  # an (empty) parameter set makes psycopg turn %% into %
    )


def _flag_shared_contract_breaks(conn: psycopg.Connection, stream: Stream) -> None:
    clean = sql.SQL("cardinality(c._reasons) = 0")
    if stream.requires_known_account:
        _add_reason(
            conn,
            _UNKNOWN_ACCOUNT,
            sql.SQL(
                "{clean} AND NOT EXISTS (SELECT 1 FROM staging.crm_accounts AS a WHERE a.account_id = c.account_id)"
            ).format(clean=clean),
        )
    key_cols = _ident_list(stream.key)
    # Same key twice in one batch: identical copies collapse in the merge; copies
    # that disagree are all quarantined, since nothing says which one is right.
    conn.execute(
        sql.SQL(
            """CREATE TEMP TABLE _repeated_keys ON COMMIT DROP AS
               SELECT {keys}, count(DISTINCT {row}) > 1 AS conflicting
               FROM _candidates AS c
               WHERE cardinality(c._reasons) = 0
                 AND ({keys}) IN (SELECT {keys} FROM _candidates WHERE cardinality(_reasons) = 0
                                  GROUP BY {keys} HAVING count(*) > 1)
               GROUP BY {keys}"""
        ).format(keys=key_cols, row=_row(stream, "c"))
    )
    _add_reason(
        conn,
        sql.SQL("format('duplicate key %%s in this batch with different content', {})").format(_key_text(stream, "c")),
        sql.SQL("({keys}) IN (SELECT {keys} FROM _repeated_keys WHERE conflicting) AND {clean}").format(
            keys=key_cols, clean=clean
        ),
    )
    if stream.immutable:
        conn.execute(
            sql.SQL(
                """UPDATE _candidates AS c
                   SET _reasons = c._reasons || format('key %%s was already loaded with different content (batch %%s)', {key}, s._batch_id)
                   FROM {staging} AS s
                   WHERE {match} AND {clean} AND {crow} IS DISTINCT FROM {srow}"""
            ).format(
                key=_key_text(stream, "c"),
                staging=_qualified(stream.staging_table),
                match=_key_match(stream, "c", "s"),
                clean=clean,
                crow=_row(stream, "c"),
                srow=_row(stream, "s"),
            ),
            {},
        )


def _quarantine(conn: psycopg.Connection, source: str, stream: Stream, batch_id: int, landing) -> int:
    """Keep every rejected row with its reasons; returns how many rows this batch rejected.

    A row already waiting in quarantine with the same payload and reason (the
    overlap of an incremental re-read, a rerun) is not stored twice.
    """
    awaiting = (
        sql.SQL("CASE WHEN c._reasons = ARRAY[{}] THEN c.account_id END").format(_UNKNOWN_ACCOUNT)
        if stream.requires_known_account
        else sql.SQL("NULL")
    )
    payload_cols = sql.SQL(", ").join(
        sql.SQL("{}, r.{}").format(sql.Literal(c), sql.Identifier(c)) for c in stream.columns
    )
    conn.execute(
        sql.SQL(
            """INSERT INTO meta.quarantine (source, stream, batch_id, line, record_key, reason, payload, awaiting_account)
               SELECT %(source)s, %(stream)s, %(batch_id)s, c._line, NULLIF({key}, ''),
                      array_to_string(c._reasons, '; '), jsonb_build_object({payload}), {awaiting}
               FROM _candidates AS c
               JOIN {landing} AS r ON r._batch_id = %(batch_id)s AND r._line = c._line
               WHERE cardinality(c._reasons) > 0
                 AND NOT EXISTS (
                     SELECT 1 FROM meta.quarantine AS q
                     WHERE q.source = %(source)s AND q.stream = %(stream)s AND q.released_in_batch IS NULL
                       AND q.reason = array_to_string(c._reasons, '; ')
                       AND q.payload = jsonb_build_object({payload}))
               ORDER BY c._line"""
        ).format(key=_key_text(stream, "c"), payload=payload_cols, landing=landing, awaiting=awaiting),
        {"source": source, "stream": stream.name, "batch_id": batch_id},
    )
    (rejected,) = conn.execute("SELECT count(*) FROM _candidates WHERE cardinality(_reasons) > 0").fetchone()
    return rejected


def _merge(conn: psycopg.Connection, source: str, stream: Stream, batch_id: int) -> tuple[int, int]:
    """Insert new keys, update changed mutable rows; returns (inserted, updated)."""
    staging = _qualified(stream.staging_table)
    cols = _ident_list(stream.columns)
    keys = _ident_list(stream.key)
    non_key = [c for c in stream.columns if c not in stream.key]
    params = {"source": source, "batch_id": batch_id}
    if stream.immutable:
        # Rows already in staging are identical (changed ones were quarantined
        # above), so only keys staging lacks go in. The stream lock makes a plain
        # INSERT safe, and it is much cheaper than ON CONFLICT's speculative
        # inserts. Exact copies within the batch collapse to one.
        (copies,) = conn.execute("SELECT EXISTS (SELECT 1 FROM _repeated_keys WHERE NOT conflicting)").fetchone()
        distinct = sql.SQL("DISTINCT ON ({keys})").format(keys=keys) if copies else sql.SQL("")
        cur = conn.execute(
            sql.SQL(
                """INSERT INTO {staging} ({cols}, _source, _batch_id)
                   SELECT {distinct} {cols}, %(source)s, %(batch_id)s FROM _candidates AS c
                   WHERE cardinality(c._reasons) = 0
                     AND NOT EXISTS (SELECT 1 FROM {staging} AS s WHERE {match})"""
            ).format(staging=staging, cols=cols, distinct=distinct, match=_key_match(stream, "s", "c")),
            params,
        )
        return cur.rowcount, 0
    updates = sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in (*non_key, "_source", "_batch_id")
    )
    changed = sql.SQL("{} IS DISTINCT FROM {}").format(
        _row(stream, "t", non_key), sql.SQL("ROW({})").format(
            sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in non_key)
        )
    )
    rows = conn.execute(
        sql.SQL(
            """INSERT INTO {staging} AS t ({cols}, _source, _batch_id)
               SELECT DISTINCT ON ({keys}) {cols}, %(source)s, %(batch_id)s
               FROM _candidates WHERE cardinality(_reasons) = 0
               ORDER BY {keys}
               ON CONFLICT ({keys}) DO UPDATE SET {updates}, _loaded_at = now()
               WHERE {changed}
               RETURNING (xmax = 0) AS inserted"""
        ).format(staging=staging, cols=cols, keys=keys, updates=updates, changed=changed),
        params,
    ).fetchall()
    inserted = sum(1 for (was_insert,) in rows if was_insert)
    return inserted, len(rows) - inserted


def _advance_cursor(conn, source: str, stream: Stream, batch_id: int, landing, cursor_from: str | None) -> str | None:
    """The new cursor is the largest ``_cursor`` received (text order); never moves backwards."""
    (batch_max,) = conn.execute(
        sql.SQL("SELECT max(_cursor) FROM {} WHERE _batch_id = %s").format(landing), [batch_id]
    ).fetchone()
    cursor_to = max(filter(None, (cursor_from, batch_max)), default=None)
    conn.execute(
        """INSERT INTO meta.source_state (source, stream, cursor, batch_id) VALUES (%s, %s, %s, %s)
           ON CONFLICT (source, stream) DO UPDATE
           SET cursor = EXCLUDED.cursor, batch_id = EXCLUDED.batch_id, updated_at = now()""",
        [source, stream.name, cursor_to, batch_id],
    )
    return cursor_to
