"""include/sql/citus/distribute.sql against the migrated warehouse: the Citus layout the README describes holds.

Citus enforces a unique key on a distributed table only when it holds the distribution column.
So every unique index of a table distributed by account_id must hold account_id (or, for the
parent roll-up, parent_account_id), the tables listed as needing a key change must really lack it
(no stale excuses), and every table of the warehouse is placed: distributed, reference, needing a
key change, or staying on the coordinator. A new table fails here until someone decides where it goes.
"""
from __future__ import annotations

import fnmatch
import re

from customer_health.paths import sql_dir

LAYOUT = sql_dir() / "citus" / "distribute.sql"


def layout() -> dict:
    text = LAYOUT.read_text(encoding="utf-8")
    distributed = dict(re.findall(r"create_distributed_table\('([\w.]+)', '(\w+)'", text))
    reference = set(re.findall(r"create_reference_table\('([\w.]+)'\)", text))
    needs_key_change = {t for line in re.findall(r"^-- needs-key-change: (.*)$", text, re.M) for t in line.split()}
    local_text = text.split("Stay on the coordinator", 1)[1]
    local = set(re.findall(r"\b(?:raw|meta|marts|staging|history|intermediate)\.[\w*]+", local_text))
    return {"distributed": distributed, "reference": reference, "needs_key_change": needs_key_change, "local": local}


def unique_indexes(conn) -> dict[str, list[list[str]]]:
    rows = conn.execute("""
        SELECT n.nspname || '.' || t.relname, array_agg(a.attname ORDER BY a.attnum)
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (i.indkey)
        WHERE i.indisunique AND n.nspname IN ('raw', 'staging', 'history', 'intermediate', 'marts', 'meta')
        GROUP BY 1, i.indexrelid""").fetchall()
    found: dict[str, list[list[str]]] = {}
    for table, columns in rows:
        found.setdefault(table, []).append(columns)
    return found


def tables(conn) -> dict[str, set[str]]:
    rows = conn.execute("""
        SELECT c.table_schema || '.' || c.table_name, array_agg(c.column_name::text)
        FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE t.table_type = 'BASE TABLE' AND c.table_schema IN ('raw', 'staging', 'history', 'intermediate', 'marts', 'meta')
        GROUP BY 1""").fetchall()
    return {table: set(columns) for table, columns in rows}


def test_distributed_tables_have_no_unique_key_without_their_distribution_column(warehouse):
    plan, keys, columns = layout(), unique_indexes(warehouse), tables(warehouse)
    assert len(plan["distributed"]) >= 10 and plan["reference"]
    for table, column in plan["distributed"].items():
        assert table in columns and column in columns[table], f"{table} has no column {column}"
        for key in keys.get(table, []):
            assert column in key, f"{table}: unique key ({', '.join(key)}) lacks {column}: Citus cannot enforce it"
    for table in plan["reference"]:
        assert table in columns, f"reference table {table} does not exist"


def test_the_listed_exceptions_are_exactly_the_per_account_tables_whose_keys_lack_account_id(warehouse):
    plan, keys, columns = layout(), unique_indexes(warehouse), tables(warehouse)
    for table in plan["needs_key_change"]:
        assert "account_id" in columns[table], f"{table} has no account_id: it is no per-account exception"
        assert any("account_id" not in key for key in keys.get(table, [])), \
            f"{table}'s keys hold account_id now: distribute it and take it off the needs-key-change list"


def test_every_table_of_the_warehouse_is_placed(warehouse):
    plan = layout()
    placed = set(plan["distributed"]) | plan["reference"] | plan["needs_key_change"]
    missing = []
    for table in tables(warehouse):
        if table in placed or any(fnmatch.fnmatch(table, pattern) for pattern in plan["local"]):
            continue
        missing.append(table)
    assert not missing, (f"{sorted(missing)} not placed in {LAYOUT.name}: distribute, make reference tables, "
                             "or say it stays on the coordinator")
