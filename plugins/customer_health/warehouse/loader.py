"""Load one extracted batch of one stream: landing, contract checks, staging merge.

Everything for a batch happens in ONE transaction, so a run killed half-way
leaves the previous state and a rerun of the same data leaves the same state.
Two paths lead to the same warehouse:

The careful path takes any batch, value by value:

1. ``COPY`` the spool file into a temporary landing table, numbering its lines
   (and keep a copy in ``raw.<stream>`` when the source cannot be read again).
2. Cast and check the batch with ``include/sql/staging/<stream>.sql``.
3. Add the checks every stream shares: the account must be known to the CRM,
   one key must not arrive twice with different content, and an immutable row
   must not change after it was loaded.
4. Rows with reasons go to ``meta.quarantine`` with their raw payload; the rest
   are merged into ``staging.<stream>`` (insert new keys, update changed rows
   of mutable streams, leave identical rows alone).
5. Streams with history keep each version in ``history.<stream>``, and a
   complete snapshot deletes the keys it lacks (``warehouse/history.py``).

The bulk path takes a backfill: a batch of database-typed values at least as
large as the staging table, for a stream whose staging table states the row
contract as constraints (``Stream.bulk_load``). It drops the table's indexes,
``COPY``s the spool straight in (the constraints check each row on the way),
quarantines the rows without a known account through the careful steps above,
and rebuilds the indexes, which checks the key. Any other break of the
contract raises; the savepoint rolls back and the careful path takes the batch.
A batch written once with its indexes built after is several times faster
than landing, casting and inserting into indexed tables row by row.

Last, both record the batch and advance the source's cursor.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from customer_health.contracts.spool import SPOOL_ANNOTATION_COLUMNS, SPOOL_META_COLUMNS, SpooledBatch
from customer_health.contracts.streams import Stream
from customer_health.paths import read_sql
from customer_health.warehouse import history
from customer_health.warehouse.sqlfiles import fetch_one_sql_file, fetch_sql_file, run_sql_file, sql_statement

# The statements live in include/sql/warehouse/loader/; Python composes only the
# per-stream parts (column lists, key matches, reason texts) with psycopg.sql.
_SQL = "warehouse/loader/"

log = logging.getLogger(__name__)

COPY_CHUNK = 1 << 20
# The bulk path pays for rebuilding the table's indexes, so it only takes
# batches at least this large and at least as large as the table.
BULK_MIN_ROWS = 100_000
BULK_INDEX_MEMORY = "512MB"
# Values a database column of these types writes are ISO 8601, the only form the
# careful path accepts; a timestamp typed as text could be anything Postgres reads.
_TEMPORAL_SOURCES = {"timestamptz": {"timestamptz", "timestamp", "date"},
                     "timestamp": {"timestamptz", "timestamp", "date"},
                     "date": {"date"}}
_UNKNOWN_ACCOUNT = sql.SQL("format('unknown account_id: %%s (not in the CRM accounts)', quote_literal(c.account_id))")
# An index entry holds about 2,700 bytes; a longer key would fail the batch at the merge.
MAX_KEY_BYTES = 2_000
# How far ahead of now a record's event time may be (clock skew between
# systems) before it is quarantined as stamped in the future.
FUTURE_TOLERANCE = timedelta(days=1)


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
    # Snapshot streams: rows a complete batch lacked (deleted at the source), and absent rows not deleted
    # because there were too many at once (see warehouse/history.py).
    complete: bool = False
    rows_deleted: int = 0
    rows_deletion_withheld: int = 0
    path: str = "careful"
    # What an operator should read about the batch (files skipped or none new, future cursors ignored).
    notes: list[str] = field(default_factory=list)
    # Seconds per step of the bulk path (copy, checks, indexes): where a backfill's time went.
    steps: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def new_batch_id(conn: psycopg.Connection) -> int:
    """Reserve a batch id before extracting, so the spool can carry it."""
    return fetch_one_sql_file(conn, _SQL + "new_batch_id.sql")["batch_id"]


def read_cursor(conn: psycopg.Connection, source: str, stream: str) -> str | None:
    row = fetch_one_sql_file(conn, _SQL + "read_cursor.sql", {"source": source, "stream": stream})
    return row["cursor"] if row else None


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


def load_batch(conn: psycopg.Connection, spool: SpooledBatch, *, keep_raw: bool = True, run_id: str | None = None,
               allow_bulk: bool = True, future_tolerance: timedelta = FUTURE_TOLERANCE) -> BatchResult:
    """Load one spool file as its batch; commits once, at the end. ``allow_bulk=False`` forces the careful path.

    A record whose event time (``Stream.event_time``) is later than now plus
    ``future_tolerance`` is quarantined.
    """
    source, stream, batch_id = spool.source, spool.stream, spool.batch_id
    future_limit = datetime.now(UTC) + future_tolerance
    # One load per staging table at a time, whichever source feeds it: the merge
    # below reads staging to decide what is new.
    lock_name = f"customer_health.load.{stream.name}"
    with conn.transaction():
        # Allowlisted bookkeeping: the stream lock and the memory for the merge's groupings.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [lock_name])
        conn.execute("SET LOCAL work_mem = '256MB'")
        cursor_from = read_cursor(conn, source, stream.name)
        result = BatchResult(source, stream.name, batch_id, cursor_from, cursor_from, notes=list(getattr(spool, "notes", [])))
        run_sql_file(conn, _SQL + "start_batch.sql", {
            "batch_id": batch_id, "source": source, "stream": stream.name, "run_id": run_id, "cursor_from": cursor_from,
        })
        why_not_bulk = _why_not_bulk(conn, spool, keep_raw) if allow_bulk else "the bulk path is turned off"
        loaded = None if why_not_bulk else _load_in_bulk(conn, spool, result.steps, future_limit)
        if loaded is not None:
            result.path = "bulk"
            result.rows_received, result.rows_quarantined = loaded
            result.rows_inserted = result.rows_received - result.rows_quarantined
        else:
            if why_not_bulk and spool.rows >= BULK_MIN_ROWS:
                log.info("%s: %s rows take the careful path: %s", stream.name, f"{spool.rows:,}", why_not_bulk)
            landing = _land(conn, spool)
            _release_rows_awaiting_accounts(conn, source, stream, batch_id, landing)
            if keep_raw:
                _keep_raw_copy(conn, stream, landing)
            result.rows_received = fetch_one_sql_file(conn, _SQL + "count_rows.sql", table=landing)["row_count"]
            _cast_and_check(conn, stream, landing, batch_id)
            _flag_shared_contract_breaks(conn, stream, landing, batch_id, future_limit)
            result.rows_quarantined = _quarantine(conn, source, stream, batch_id, landing)
            result.rows_inserted, result.rows_updated = _merge(conn, source, stream, batch_id)
            # Versions and deletions of snapshot streams: one call, everything else in warehouse/history.py.
            recorded = history.record_batch(conn, spool)
            result.complete = bool(getattr(spool, "complete", False))
            result.rows_deleted, result.rows_deletion_withheld = recorded.deleted, recorded.deletion_withheld
            _close_fixed_entries(conn, stream, batch_id)
        _record_files(conn, spool)
        result.rows_unchanged = result.rows_received - result.rows_quarantined - result.rows_inserted - result.rows_updated
        result.cursor_to = _advance_cursor(conn, source, stream, batch_id, spool.cursor, cursor_from)
        run_sql_file(conn, _SQL + "finish_batch.sql", result.as_dict())
    for note in result.notes:
        log.warning("%s.%s: %s", source, stream.name, note)
    log.info("loaded %s", result.as_dict())
    return result


def _land(conn: psycopg.Connection, spool: SpooledBatch, where: sql.Composable | None = None) -> sql.Identifier:
    """COPY the spool into the temporary table ``_landing``, numbering lines as they come (1 = first data row).

    ``where`` keeps only the rows it matches; the line numbers still count every row.
    """
    landing = sql.Identifier("_landing")
    run_sql_file(conn, _SQL + "create_landing.sql", landing=landing, raw=_qualified(spool.stream.raw_table))
    _copy_spool(conn, spool, landing, where=where)
    # Allowlisted bookkeeping: statistics before the checks read the landed rows.
    conn.execute(sql.SQL("ANALYZE {}").format(landing))
    return landing


def _copy_spool(conn: psycopg.Connection, spool: SpooledBatch, table: sql.Composable, *,
                options: sql.Composable | None = None, where: sql.Composable | None = None) -> int:
    """Stream the spool file into ``table`` with COPY; returns the rows it read."""
    statement = sql_statement(
        _SQL + "copy_spool_in.sql",
        table=table,
        columns=_ident_list(spool.header),
        options=sql.SQL(", ") + options if options else sql.SQL(""),
        where=sql.SQL(" WHERE ") + where if where else sql.SQL(""),
    )
    with conn.cursor() as cur:
        with cur.copy(statement) as copy, open(spool.path, "rb") as spool_file:
            while chunk := spool_file.read(COPY_CHUNK):
                copy.write(chunk)
        return cur.rowcount


def _keep_raw_copy(conn: psycopg.Connection, stream: Stream, landing) -> None:
    """The batch as received, in ``raw.<stream>``, for sources that cannot be read again."""
    columns = _ident_list(("_line", *SPOOL_META_COLUMNS, *stream.columns, *SPOOL_ANNOTATION_COLUMNS))
    run_sql_file(conn, _SQL + "keep_raw_copy.sql", raw=_qualified(stream.raw_table), columns=columns, landing=landing)


class _NotForBulk(Exception):
    """The batch breaks a rule the bulk path cannot apply by itself; the careful path takes it."""


def _why_not_bulk(conn: psycopg.Connection, spool: SpooledBatch, keep_raw: bool) -> str | None:
    """Why the batch must take the careful path, or None when the bulk path may try it."""
    stream = spool.stream
    if not stream.bulk_load:
        return f"stream {stream.name} has no bulk path"
    if spool.rows < BULK_MIN_ROWS:
        return f"fewer than {BULK_MIN_ROWS:,} rows"
    if keep_raw:
        return "the source keeps a raw copy"
    if spool.source_types is None:
        return "values came as text (files, APIs), not from typed database columns"
    if any(c in spool.header for c in SPOOL_ANNOTATION_COLUMNS):
        return "records carry per-record origins (files, APIs), which staging does not keep"
    staging_types = _column_types(conn, stream.staging_table)
    for column in stream.columns:
        allowed = _TEMPORAL_SOURCES.get(staging_types[column])
        if allowed is not None and spool.source_types.get(column) not in allowed:
            return f"{column} came as {spool.source_types.get(column)}, not as a date or time type"
    table_rows = fetch_one_sql_file(conn, _SQL + "staging_rows_estimate.sql",
                                    {"table": stream.staging_table})["estimated_rows"]
    if spool.rows < table_rows:
        return f"the batch is smaller than staging.{stream.name} (about {table_rows:,.0f} rows)"
    if _rows_to_release(conn, spool.source, stream):
        return "rows waiting in quarantine (for their account, or released by a person) can rejoin now"
    return None


def _column_types(conn: psycopg.Connection, table: str) -> dict[str, str]:
    rows = fetch_sql_file(conn, _SQL + "column_types.sql", {"table": table})
    return {r["column_name"]: r["type_name"] for r in rows}


def _load_in_bulk(conn: psycopg.Connection, spool: SpooledBatch, steps: dict[str, float],
                  future_limit: datetime) -> tuple[int, int] | None:
    """Try the bulk path; returns (rows received, rows quarantined), or None after rolling it back.

    ``steps`` receives the seconds each step took.
    """
    stream = spool.stream
    staging = _qualified(stream.staging_table)
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps[name] = round(now - clock, 3)
        clock = now

    try:
        with conn.transaction():
            rebuild = _drop_indexes(conn, stream.staging_table)
            text_columns = [c for c, t in _column_types(conn, stream.staging_table).items()
                            if t == "text" and c in stream.columns]
            # FORCE_NULL: a quoted empty string is null, as NULLIF(value, '') makes it on the careful path.
            force_null = sql.SQL("FORCE_NULL ({})").format(_ident_list(text_columns)) if text_columns else None
            received = _copy_spool(conn, spool, staging, options=force_null)
            step("copy")
            conn.execute(sql.SQL("ANALYZE {}").format(staging))  # allowlisted: statistics for the account check
            needs_care = [sql.SQL("octet_length({}) > {}").format(_key_text(stream, "s"), sql.Literal(MAX_KEY_BYTES))]
            if stream.event_time:
                needs_care.append(sql.SQL("s.{} > {}").format(sql.Identifier(stream.event_time), sql.Literal(future_limit)))
            if fetch_one_sql_file(conn, _SQL + "has_rows_needing_care.sql", {"batch_id": spool.batch_id},
                                  staging=staging, needs_care=sql.SQL(" OR ").join(needs_care))["found"]:
                raise _NotForBulk(f"a key is over {MAX_KEY_BYTES} bytes or a {stream.event_time} beyond the future tolerance")
            quarantined = _quarantine_rows_without_account(conn, spool) if stream.requires_known_account else 0
            step("checks")
            conn.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(BULK_INDEX_MEMORY)))  # allowlisted
            for statement in rebuild:
                conn.execute(statement)
            step("indexes")
    # ProgramLimitExceeded: a key too long for its index (the careful path quarantines that row).
    except (psycopg.DataError, psycopg.IntegrityError, psycopg.errors.ProgramLimitExceeded, _NotForBulk) as exc:
        reason = exc.diag.message_primary if isinstance(exc, psycopg.Error) else str(exc)
        log.info("%s: bulk path rolled back (%s); checking the batch value by value", stream.name, reason)
        steps.clear()
        return None
    log.info("%s: %s rows loaded by the bulk path (%s), %s quarantined", stream.name, f"{received:,}",
             ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items()), quarantined)
    return received, quarantined


def _drop_indexes(conn: psycopg.Connection, table: str) -> list[sql.Composable]:
    """Drop the table's indexes (and the constraints they carry); returns the statements that rebuild them.

    Building an index once over the loaded rows costs a fraction of updating it
    row by row; rebuilding a unique key also checks it. Holds an exclusive lock
    on the table until the load commits.
    """
    rebuild = []
    for index in fetch_sql_file(conn, _SQL + "table_indexes.sql", {"table": table}):
        if index["constraint_name"]:
            constraint = {"table": _qualified(table), "constraint": sql.Identifier(index["constraint_name"])}
            run_sql_file(conn, _SQL + "drop_constraint.sql", **constraint)
            # The definition is Postgres's own text (pg_get_constraintdef), not input.
            rebuild.append(sql_statement(_SQL + "add_constraint.sql", **constraint,
                                         definition=sql.SQL(index["constraint_definition"])))
        else:
            # regclass text is already quoted and schema-qualified as needed.
            run_sql_file(conn, _SQL + "drop_index.sql", index=sql.SQL(index["index_name"]))
            rebuild.append(sql.SQL(index["index_definition"]))
    return rebuild


def _quarantine_rows_without_account(conn: psycopg.Connection, spool: SpooledBatch) -> int:
    """Move the batch's rows whose account is missing or unknown to quarantine, as the careful path would.

    Such rows are common (a product's trial workspaces are not CRM accounts) and
    few, so they are landed again from the spool (with their line numbers and
    text as received) and go through the careful steps; their copies leave staging.
    """
    stream, batch_id = spool.stream, spool.batch_id
    staging = _qualified(stream.staging_table)
    run_sql_file(conn, _SQL + "find_rows_without_account.sql", {"batch_id": batch_id}, staging=staging)
    without = fetch_one_sql_file(conn, _SQL + "rows_without_account.sql")
    rows, unknown_accounts = without["row_count"], without["unknown_accounts"]
    if rows == 0:
        return 0
    # COPY takes no bind parameters: the account ids reach its WHERE as a literal quoted by the driver.
    landing = _land(conn, spool, where=sql.SQL("account_id IS NULL OR account_id = '' OR account_id = ANY({})").format(
        sql.Literal(unknown_accounts)))
    _cast_and_check(conn, stream, landing, batch_id)
    _flag_shared_contract_breaks(conn, stream, landing, batch_id, None)
    quarantined = _quarantine(conn, spool.source, stream, batch_id, landing)
    if quarantined != rows:
        raise _NotForBulk(f"{rows} rows lack a known account but the checks reject {quarantined} of their lines")
    run_sql_file(conn, _SQL + "delete_rows_without_account.sql", staging=staging)
    return rows


def _cast_and_check(conn: psycopg.Connection, stream: Stream, landing, batch_id: int) -> None:
    """Build ``_candidates``: the batch cast to canonical types, with the reasons each row cannot load.

    Plain casts first (fast, but they raise on the first bad value); on a data
    error the savepoint rolls back and the exact per-value casts run instead.
    Both accept the same values (see util.try_* in V001).
    """
    create = sql_statement(_SQL + "create_candidates.sql",
                           cast_and_check=sql.SQL(read_sql(f"staging/{stream.name}.sql")).format(landing=landing))
    try:
        with conn.transaction():
            conn.execute("SET LOCAL customer_health.fast_casts = 'on'")  # allowlisted: see util.try_* in V001
            conn.execute(create, {"batch_id": batch_id})
            conn.execute("SET LOCAL customer_health.fast_casts = 'off'")
    except psycopg.DataError as exc:  # any SQLSTATE of class 22, e.g. 22008 for 2026-02-30
        log.info("%s: a value does not cast (%s); checking the batch value by value", stream.name, exc.diag.message_primary)
        conn.execute(create, {"batch_id": batch_id})
    conn.execute("ANALYZE _candidates")  # allowlisted: statistics before the checks and the merge read it


def _release_rows_awaiting_accounts(conn, source: str, stream: Stream, batch_id: int, landing) -> None:
    """Take back rows quarantined only because their account was not in the CRM yet, once it is.

    Sources load on their own schedules, so usage can arrive before the CRM
    knows a new account. Those rows rejoin this batch (after its own lines)
    and go through every check again.
    """
    cols = _ident_list(stream.columns)
    from_payload = sql.SQL(", ").join(sql.SQL("q.payload ->> {}").format(sql.Literal(c)) for c in stream.columns)
    released = run_sql_file(
        conn, _SQL + "release_rows_awaiting_accounts.sql",
        {"source": source, "stream": stream.name, "batch_id": batch_id},
        landing=landing, columns=cols, from_payload=from_payload,
    )
    if released:
        log.info("%s.%s: %d quarantined rows whose account is now known rejoin batch %s", source, stream.name, released, batch_id)


def _rows_to_release(conn: psycopg.Connection, source: str, stream: Stream) -> bool:
    """Whether rows of this source wait in quarantine for an account the CRM knows by now."""
    return fetch_one_sql_file(conn, _SQL + "rows_awaiting_accounts.sql",
                              {"source": source, "stream": stream.name})["waiting"]


def _flag_shared_contract_breaks(conn: psycopg.Connection, stream: Stream, landing, batch_id: int,
                                 future_limit: datetime | None) -> None:
    """The checks every stream shares, after its own casts: each adds reasons to ``_candidates``."""
    run_sql_file(conn, _SQL + "flag_spool_rejects.sql", {"batch_id": batch_id}, landing=landing)
    run_sql_file(conn, _SQL + "flag_oversized_keys.sql", {"max_key_bytes": MAX_KEY_BYTES}, key_text=_key_text(stream, "c"))
    if stream.event_time and future_limit is not None:
        run_sql_file(conn, _SQL + "flag_future_rows.sql", {"column": stream.event_time, "limit": future_limit},
                     column=sql.Identifier(stream.event_time))
    if not stream.immutable:
        _supersede_earlier_files(conn, stream, landing, batch_id)
    if stream.requires_known_account:
        run_sql_file(conn, _SQL + "flag_unknown_accounts.sql", unknown_account=_UNKNOWN_ACCOUNT)
    key_cols = _ident_list(stream.key)
    run_sql_file(conn, _SQL + "find_repeated_keys.sql", keys=key_cols, candidate_row=_row(stream, "c"))
    run_sql_file(conn, _SQL + "flag_conflicting_keys.sql", keys=key_cols, key_text=_key_text(stream, "c"))
    if stream.immutable:
        run_sql_file(
            conn, _SQL + "flag_changed_immutable_rows.sql",
            key_text=_key_text(stream, "c"),
            staging=_qualified(stream.staging_table),
            key_match=_key_match(stream, "c", "s"),
            candidate_row=_row(stream, "c"),
            staging_row=_row(stream, "s"),
        )


def _supersede_earlier_files(conn: psycopg.Connection, stream: Stream, landing, batch_id: int) -> None:
    """Several export files in one batch of a mutable stream: the later file's row of a key wins."""
    key_columns = sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(k)) for k in stream.key)
    superseded = run_sql_file(conn, _SQL + "supersede_earlier_files.sql", {"batch_id": batch_id}, landing=landing,
                              key_columns=key_columns, keys=_ident_list(stream.key), key_match=_key_match(stream, "p", "t"))
    if superseded > 0:
        log.info("%s: %d rows of earlier files give way to a later file's row of their key", stream.name, superseded)


def _close_fixed_entries(conn: psycopg.Connection, stream: Stream, batch_id: int) -> None:
    """Close open quarantine entries whose key this batch loaded clean: the corrected row arrived."""
    closed = run_sql_file(conn, _SQL + "close_fixed_entries.sql", {"stream": stream.name, "batch_id": batch_id},
                          key_text=_key_text(stream, "c"))
    if closed > 0:
        log.info("%s: %d quarantine entries closed, their keys loaded clean in batch %s", stream.name, closed, batch_id)


def _record_files(conn: psycopg.Connection, spool: SpooledBatch) -> None:
    """The export files the batch read (name, size, checksum), so the next run reads only new content."""
    files = getattr(spool, "files", None)
    if files:
        run_sql_file(conn, _SQL + "record_source_files.sql", {
            "source": spool.source, "stream": spool.stream.name, "batch_id": spool.batch_id,
            "names": [f.name for f in files], "sizes": [f.size for f in files], "sha256s": [f.sha256 for f in files]})


def loaded_files(conn: psycopg.Connection, source: str, stream: str) -> dict[str, set[str]]:
    """File name -> SHA-256s of the contents already loaded, for the csv kind."""
    known: dict[str, set[str]] = {}
    for row in fetch_sql_file(conn, _SQL + "loaded_files.sql", {"source": source, "stream": stream}):
        known.setdefault(row["name"], set()).add(row["sha256"])
    return known


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
    run_sql_file(
        conn, _SQL + "quarantine_rejected_rows.sql",
        {"source": source, "stream": stream.name, "batch_id": batch_id},
        key_text=_key_text(stream, "c"), payload=payload_cols, landing=landing, awaiting=awaiting,
    )
    return fetch_one_sql_file(conn, _SQL + "count_rejected.sql")["rejected"]


def _merge(conn: psycopg.Connection, source: str, stream: Stream, batch_id: int) -> tuple[int, int]:
    """Insert new keys, update changed mutable rows; returns (inserted, updated)."""
    staging = _qualified(stream.staging_table)
    cols = _ident_list(stream.columns)
    keys = _ident_list(stream.key)
    non_key = [c for c in stream.columns if c not in stream.key]
    params = {"source": source, "batch_id": batch_id}
    if stream.immutable:
        # Exact copies within the batch collapse to one.
        copies = fetch_one_sql_file(conn, _SQL + "has_exact_copies.sql")["has_copies"]
        distinct = sql.SQL("DISTINCT ON ({keys})").format(keys=keys) if copies else sql.SQL("")
        inserted = run_sql_file(conn, _SQL + "merge_immutable.sql", params, staging=staging, columns=cols,
                                distinct=distinct, key_match=_key_match(stream, "s", "c"))
        return inserted, 0
    updates = sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in (*non_key, "_source", "_batch_id")
    )
    changed = sql.SQL("{} IS DISTINCT FROM {}").format(
        _row(stream, "t", non_key), sql.SQL("ROW({})").format(
            sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in non_key)
        )
    )
    rows = fetch_sql_file(conn, _SQL + "merge_mutable.sql", params, staging=staging, columns=cols, keys=keys,
                          updates=updates, changed=changed)
    inserted = sum(1 for r in rows if r["inserted"])
    return inserted, len(rows) - inserted


def _advance_cursor(conn, source: str, stream: Stream, batch_id: int, batch_cursor: str | None,
                    cursor_from: str | None) -> str | None:
    """The new cursor is the largest one of the batch (text order); it never moves backwards."""
    cursor_to = max(filter(None, (cursor_from, batch_cursor)), default=None)
    run_sql_file(conn, _SQL + "advance_cursor.sql",
                 {"source": source, "stream": stream.name, "cursor": cursor_to, "batch_id": batch_id})
    return cursor_to
