"""Versions of snapshot streams (``history.<stream>``, SCD type 2) and deletions, kept by each load.

Sources like a CRM or a product database hold only their current state, so
``staging.<stream>`` would show today's seats, contracts and users on every
past day. The loader calls :func:`record_batch` once per batch, right after the
staging merge and inside its transaction; this module owns everything else:

* A row the merge inserted or changed closes its key's current version at the
  load's time (``valid_to``) and opens a new one (``valid_from``). An identical
  row changes nothing, so a rerun leaves history as it was.
* The versions of a stream's first load get ``valid_from`` NULL: before the
  first load, the earliest version loaded is the best the warehouse has. The
  evaluation knows where each history starts (``meta.snapshot_history_start``)
  and flags KPIs of earlier days as not point in time.
* A complete batch (``SpooledBatch.complete``: a full extraction, never an
  incremental page) of a ``Stream.snapshot`` stream deletes the keys it lacks
  among the rows its source wrote (another source feeding the stream speaks
  for its own): they leave staging and their version closes as ``deleted``. A batch that
  would delete more than :data:`MAX_DELETED_SHARE` of a stream of at least
  :data:`GUARD_MIN_ROWS` rows deletes nothing and says so (a broken extraction
  that returns half a table must not erase it); the count is kept in
  ``meta.load_batches.rows_deletion_withheld``.
* ``SpooledBatch.observed_at`` dates a snapshot taken earlier than its load
  (the default is the load's time). Snapshots must arrive in time order: one
  observed before the newest moment history records is refused.

Readers take the version known at the end of a UTC day D with
``history.known_days(valid_from, valid_to) @> D`` (migration V040).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from customer_health.contracts.spool import SpooledBatch
from customer_health.warehouse.sqlfiles import fetch_one_sql_file, run_sql_file

log = logging.getLogger(__name__)

_SQL = "warehouse/history/"
MAX_DELETED_SHARE = 0.5
GUARD_MIN_ROWS = 10


class HistoryOrderError(ValueError):
    """A dated snapshot is older than what history already records."""


@dataclass
class HistoryResult:
    deleted: int = 0
    deletion_withheld: int = 0
    closed: int = 0
    opened: int = 0


def _ident(table: str) -> sql.Identifier:
    return sql.Identifier(*table.split("."))


def _match(keys, left: str, right: str) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(sql.Identifier(left), sql.Identifier(k), sql.Identifier(right), sql.Identifier(k))
        for k in keys)


def _row(columns, alias: str) -> sql.Composable:
    return sql.SQL("ROW({})").format(sql.SQL(", ").join(
        sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(c)) for c in columns))


def record_batch(conn: psycopg.Connection, spool: SpooledBatch) -> HistoryResult:
    """Bring ``history.<stream>`` up to date with what this batch merged into staging (and delete what a
    complete snapshot lacks). Call inside the load's transaction, after the merge; a stream without
    history is left alone."""
    stream = spool.stream
    result = HistoryResult()
    if not stream.history:
        return result
    history, staging = _ident(f"history.{stream.name}"), _ident(stream.staging_table)
    state = fetch_one_sql_file(conn, _SQL + "state.sql", history=history)
    at: datetime = getattr(spool, "observed_at", None) or fetch_one_sql_file(conn, _SQL + "now.sql")["now"]
    if state["newest"] is not None and at < state["newest"]:
        raise HistoryOrderError(
            f"{spool.source}.{stream.name}: snapshot observed at {at.isoformat()} is older than history.{stream.name} "
            f"already records ({state['newest'].isoformat()}); load dated snapshots oldest first")
    params = {"at": at, "batch_id": spool.batch_id, "first_load": not state["has_history"]}
    non_key = [c for c in stream.columns if c not in stream.key]

    if stream.snapshot and getattr(spool, "complete", False):
        counts = fetch_one_sql_file(
            conn, _SQL + "find_absent.sql", {"source": spool.source}, staging=staging,
            staging_keys=sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(k)) for k in stream.key),
            key_match=_match(stream.key, "c", "s"))
        absent, rows = counts["absent"], counts["staging_rows"]
        if absent and rows >= GUARD_MIN_ROWS and absent > MAX_DELETED_SHARE * rows:
            result.deletion_withheld = absent
            log.warning("%s.%s: the complete snapshot lacks %d of %d rows (more than %.0f %%): deleting none; "
                        "check the extraction, or delete them by hand if the source really lost them",
                        spool.source, stream.name, absent, rows, 100 * MAX_DELETED_SHARE)
        elif absent:
            result.deleted = run_sql_file(conn, _SQL + "delete_absent.sql", params, history=history, staging=staging,
                                          history_key_match=_match(stream.key, "h", "a"),
                                          staging_key_match=_match(stream.key, "s", "a"))
            log.info("%s.%s: %d rows absent from the complete snapshot marked deleted", spool.source, stream.name,
                     result.deleted)

    result.closed = run_sql_file(conn, _SQL + "close_changed.sql", params, history=history, staging=staging,
                                 key_match=_match(stream.key, "h", "s"),
                                 history_row=_row(non_key, "h"), staging_row=_row(non_key, "s"))
    result.opened = run_sql_file(
        conn, _SQL + "open_versions.sql", params, history=history, staging=staging,
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in stream.columns),
        staging_columns=sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in stream.columns),
        key_match=_match(stream.key, "h", "s"))
    if result.opened or result.closed or result.deleted:
        run_sql_file(conn, _SQL + "analyze.sql", history=history)
    return result
