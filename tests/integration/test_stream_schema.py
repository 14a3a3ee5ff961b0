"""Each stream is defined once, in contracts/streams.py; the migrated warehouse and the staging SQL must agree with it.

The migrations create ``raw.<stream>`` and ``staging.<stream>`` and
``include/sql/staging/<stream>.sql`` casts a batch into the staging shape: three
more places that name a stream's columns. Rather than trust that an edit
reached all of them, this compares each with the definition: the column names
and their order, the staging types, the primary key, and that no table or
staging file exists without a stream.
"""
from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from customer_health.contracts.spool import SPOOL_ANNOTATION_COLUMNS, SPOOL_META_COLUMNS
from customer_health.contracts.streams import STREAMS
from customer_health.paths import read_sql, sql_dir

# The loader's bookkeeping around the stream's own columns: raw keeps the spool
# file as received with the line it came from (and, from Python extractors,
# each record's origin, unmapped fields and why it was altered); staging records the batch that
# last wrote a row, and when.
RAW_COLUMNS_BEFORE = (*SPOOL_META_COLUMNS, "_line")
LOADED_AT = ("_loaded_at",)
STAGING_COLUMNS_AFTER = (*SPOOL_META_COLUMNS, "_loaded_at")
# What the staging SQL returns around the typed columns: the landing line and why a row cannot load.
STAGING_SQL_LINE, STAGING_SQL_REASONS = "_line", "_reasons"

COLUMNS = """
    SELECT table_schema, table_name, column_name, data_type
    FROM information_schema.columns
    WHERE table_schema IN ('raw', 'staging')
    ORDER BY table_schema, table_name, ordinal_position
"""
PRIMARY_KEYS = """
    SELECT tc.table_schema, tc.table_name, k.column_name
    FROM information_schema.table_constraints AS tc
    JOIN information_schema.key_column_usage AS k
      ON k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name
    WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema IN ('raw', 'staging')
    ORDER BY tc.table_schema, tc.table_name, k.ordinal_position
"""
TABLES = """
    SELECT table_schema, table_name FROM information_schema.tables
    WHERE table_schema IN ('raw', 'staging') AND table_type = 'BASE TABLE'
"""


@pytest.fixture(scope="module")
def catalog(warehouse_url):
    """The warehouse's raw and staging tables as information_schema describes them."""
    with psycopg.connect(warehouse_url) as conn:
        columns: dict[str, list[tuple[str, str]]] = {}
        for schema, table, column, data_type in conn.execute(COLUMNS):
            columns.setdefault(f"{schema}.{table}", []).append((column, data_type))
        keys: dict[str, list[str]] = {}
        for schema, table, column in conn.execute(PRIMARY_KEYS):
            keys.setdefault(f"{schema}.{table}", []).append(column)
        tables = {f"{schema}.{table}" for schema, table in conn.execute(TABLES)}
        # The definitions use Postgres's short type names (timestamptz); ask Postgres for the names it reports.
        declared = {c.type for s in STREAMS.values() for c in s.schema}
        canonical = {t: conn.execute("SELECT format_type(%s::regtype, NULL)", [t]).fetchone()[0] for t in declared}
    return {"columns": columns, "keys": keys, "tables": tables, "canonical": canonical}


def test_every_raw_and_staging_table_belongs_to_a_stream(catalog):
    expected = {t for s in STREAMS.values() for t in (s.raw_table, s.staging_table)}
    assert catalog["tables"] - expected == set(), "tables without a stream definition in contracts/streams.py"
    assert expected - catalog["tables"] == set(), "streams without their tables in the migrations"


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_staging_table_matches_the_stream(catalog, name):
    stream = STREAMS[name]
    canonical = catalog["canonical"]
    expected = [(c.name, canonical[c.type]) for c in stream.schema]
    actual = catalog["columns"].get(stream.staging_table, [])
    assert [c for c in actual if c[0] in stream.columns] == expected, f"{stream.staging_table}: columns or types differ"
    assert [c for c, _ in actual] == [*stream.columns, *STAGING_COLUMNS_AFTER], f"{stream.staging_table}: column order"
    assert catalog["keys"].get(stream.staging_table) == list(stream.key), f"{stream.staging_table}: primary key"


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_raw_table_keeps_every_column_as_text(catalog, name):
    stream = STREAMS[name]
    actual = catalog["columns"].get(stream.raw_table, [])
    assert [c for c, _ in actual] == [*RAW_COLUMNS_BEFORE, *stream.columns, *LOADED_AT, *SPOOL_ANNOTATION_COLUMNS], f"{stream.raw_table}: columns"
    assert {t for c, t in actual if c in stream.columns} == {"text"}, f"{stream.raw_table}: values as received are text"


def test_every_staging_file_belongs_to_a_stream():
    files = {p.stem for p in (sql_dir() / "staging").glob("*.sql")}
    assert files == set(STREAMS), "include/sql/staging/ and contracts/streams.py name different streams"


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_staging_sql_returns_the_stream_columns_typed(warehouse_url, catalog, name):
    """The cast-and-check SQL, run on the (empty) raw table as its landing, yields the stream's columns and types."""
    stream = STREAMS[name]
    query = sql.SQL("SELECT * FROM ({}) AS batch LIMIT 0").format(
        sql.SQL(read_sql(f"staging/{name}.sql")).format(landing=sql.Identifier("raw", name))
    )
    with psycopg.connect(warehouse_url) as conn:
        cursor = conn.execute(query, {"batch_id": 0})
        returned = [
            (column.name, conn.execute("SELECT format_type(%s, NULL)", [column.type_code]).fetchone()[0])
            for column in cursor.description
        ]
    names = [n for n, _ in returned]
    assert names == [STAGING_SQL_LINE, *stream.columns, STAGING_SQL_REASONS], f"staging/{name}.sql: columns"
    canonical = catalog["canonical"]
    assert [r for r in returned if r[0] in stream.columns] == [(c.name, canonical[c.type]) for c in stream.schema], (
        f"staging/{name}.sql: types differ from the stream definition")
