"""The loader's bulk path: a backfill of database-typed values COPYed straight into staging.

Whatever a batch holds, the warehouse after the bulk path must be the one the
careful path leaves: every test here loads the same batch both ways, on an
emptied warehouse each time, and compares staging, quarantine, batch records
and cursors. The path a batch took is in ``meta.load_batches.load_path``.
"""
from __future__ import annotations

import psycopg
import pytest

from customer_health.contracts.streams import STREAMS
from customer_health.sources.ingest import ingest_stream
from customer_health.warehouse import loader
from tests.helpers import EMPTY_TEXT, accounts, load_rows, table, truncate_warehouse
from tests.integration.test_ingest_dags import PRODUCT_SCHEMA, add_events

# What the product database's usage query yields (include/sql/extract/product_db/usage_events.sql).
EVENT_TYPES = {"event_id": "text", "account_id": "text", "user_id": "text", "event_name": "text",
               "occurred_at": "timestamptz", "duration_seconds": "numeric"}
SURVEY_TYPES = {"response_id": "text", "account_id": "text", "respondent": "text", "survey": "text",
                "question_id": "text", "answer": "int4", "submitted_at": "timestamptz"}
CAREFUL_ONLY = 10**12


def event(i, account="a1", **changes):
    """One event as a typed database writes it (timestamptz and numeric output)."""
    return {"event_id": str(i), "account_id": account, "user_id": str(100 + i % 7), "event_name": "login",
            "occurred_at": f"2026-11-01 {i % 24:02d}:{i % 60:02d}:00+00", "duration_seconds": f"{i % 90}.5",
            **changes}


def answer(i, survey="nps", value="9", **changes):
    return {"response_id": f"r{i}", "account_id": "a1", "respondent": "u@example.com", "survey": survey,
            "question_id": survey, "answer": value, "submitted_at": "2026-11-01 10:00:00+00", **changes}


def load_typed(url: str, stream: str, rows: list[dict], types: dict[str, str], cursor: str = "2026-11-01T10:00:00"):
    """Load rows the way the product-database extractor hands them over: a spool that knows its source types."""
    return load_rows(url, stream, rows, source="product_db", cursor=cursor, keep_raw=False, source_types=types)


def warehouse_state(conn, stream: str) -> dict:
    columns = ", ".join((*STREAMS[stream].columns, "_source", "_batch_id"))
    return {
        "staging": table(conn, f"SELECT {columns} FROM staging.{stream} ORDER BY 1, 2"),  # noqa: S608 - constant names
        "quarantine": table(conn, """SELECT source, stream, batch_id, line, record_key, reason, payload, awaiting_account
                                     FROM meta.quarantine ORDER BY batch_id, line"""),
        "batches": table(conn, """SELECT batch_id, source, stream, cursor_from, cursor_to, rows_received, rows_inserted,
                                         rows_updated, rows_unchanged, rows_quarantined
                                  FROM meta.load_batches ORDER BY batch_id"""),
        "cursors": table(conn, "SELECT source, stream, cursor, batch_id FROM meta.source_state ORDER BY 1, 2"),
    }


def paths(conn) -> list[str]:
    return [p for (p,) in table(conn, "SELECT load_path FROM meta.load_batches WHERE stream <> 'crm_accounts' ORDER BY batch_id")]


@pytest.fixture
def both_ways(warehouse, warehouse_url, monkeypatch):
    """Run ``load`` on an emptied warehouse with the bulk path off, then on; returns (careful, bulk) states and paths."""
    def run(stream: str, load, accounts_known=("a1",)):
        outcomes = []
        for min_rows in (CAREFUL_ONLY, 1):
            truncate_warehouse(warehouse_url)
            load_rows(warehouse_url, "crm_accounts", accounts(*accounts_known))
            monkeypatch.setattr(loader, "BULK_MIN_ROWS", min_rows)
            load()
            outcomes.append((warehouse_state(warehouse, stream), paths(warehouse)))
        (careful, careful_paths), (bulk, bulk_paths) = outcomes
        assert set(careful_paths) == {"careful"}
        return careful, bulk, bulk_paths
    return run


def test_a_clean_backfill_takes_the_bulk_path_and_leaves_what_the_careful_path_leaves(both_ways, warehouse_url):
    rows = [event(i) for i in range(300)] + [event(300, user_id=None, duration_seconds=None), event(301, user_id=EMPTY_TEXT)]
    careful, bulk, bulk_paths = both_ways("usage_events", lambda: load_typed(warehouse_url, "usage_events", rows, EVENT_TYPES))
    assert bulk_paths == ["bulk"]
    assert bulk == careful
    assert len(bulk["staging"]) == 302 and bulk["quarantine"] == []
    assert [r[2] for r in bulk["staging"] if r[0] in ("300", "301")] == [None, None], "an empty text is no value"


def test_rows_without_a_known_account_are_quarantined_by_the_bulk_path_itself(both_ways, warehouse_url):
    rows = [event(i) for i in range(50)]
    rows[3]["account_id"] = None         # a workspace the CRM has no id for
    rows[7]["account_id"] = "ghost"      # an id the CRM does not know (yet)
    rows[8]["account_id"] = "ghost"
    rows[9]["account_id"] = "o'brien"    # quoted safely on its way into COPY's WHERE
    rows.append(event(11, account=None))  # and a copy of a good event: the good one stays
    careful, bulk, bulk_paths = both_ways("usage_events", lambda: load_typed(warehouse_url, "usage_events", rows, EVENT_TYPES))
    assert bulk_paths == ["bulk"]
    assert bulk == careful
    assert [(line, reason) for _, _, _, line, _, reason, _, _ in bulk["quarantine"]] == [
        (4, "missing account_id"),
        (8, "unknown account_id: 'ghost' (not in the CRM accounts)"),
        (9, "unknown account_id: 'ghost' (not in the CRM accounts)"),
        (10, "unknown account_id: 'o''brien' (not in the CRM accounts)"),
        (51, "missing account_id"),
    ]


def test_rows_that_can_rejoin_now_send_the_batch_the_careful_way(both_ways, warehouse_url):
    def load():
        load_typed(warehouse_url, "usage_events", [event(i) for i in range(20)] + [event(20, account="late")],
                   EVENT_TYPES)
        load_rows(warehouse_url, "crm_accounts", accounts("late"))
        load_typed(warehouse_url, "usage_events", [event(i) for i in range(21, 80)], EVENT_TYPES)

    careful, bulk, bulk_paths = both_ways("usage_events", load)
    assert bulk_paths == ["bulk", "careful"]
    assert bulk == careful
    assert [r[0] for r in bulk["staging"] if r[1] == "late"] == ["20"]


@pytest.mark.parametrize(
    ("break_row", "why"),
    [
        (lambda rows: rows[5].update(duration_seconds="-3"), "negative duration"),
        (lambda rows: rows[5].update(duration_seconds="NaN"), "NaN"),
        (lambda rows: rows[5].update(duration_seconds="Infinity"), "infinite number"),
        (lambda rows: rows[5].update(occurred_at="infinity"), "infinite time"),
        (lambda rows: rows[5].update(event_name=None), "missing event name"),
        (lambda rows: rows[5].update(occurred_at="2026-11-31 10:00:00+00"), "no such day"),
        (lambda rows: rows.append(event(5, event_name="logout")), "one id, two contents"),
        (lambda rows: rows.append(event(5)), "one id twice, same content"),
    ],
)
def test_any_other_break_rolls_the_bulk_path_back_and_the_careful_path_decides(both_ways, warehouse_url, break_row, why):
    rows = [event(i) for i in range(40)]
    break_row(rows)
    careful, bulk, bulk_paths = both_ways("usage_events", lambda: load_typed(warehouse_url, "usage_events", rows, EVENT_TYPES))
    assert bulk_paths == ["careful"], why
    assert bulk == careful, why


@pytest.mark.parametrize(
    ("rows", "why"),
    [
        ([answer(1), answer(2, value="11")], "NPS out of range"),
        ([answer(1), answer(2, survey="NPS")], "survey named in capitals (the careful path lower-cases it)"),
        ([answer(1), answer(2, survey="cmi", value="0")], "CMI below 1"),
    ],
)
def test_survey_answers_that_break_the_contract_go_the_careful_way(both_ways, warehouse_url, rows, why):
    careful, bulk, bulk_paths = both_ways(
        "survey_responses", lambda: load_typed(warehouse_url, "survey_responses", rows, SURVEY_TYPES))
    assert bulk_paths == ["careful"], why
    assert bulk == careful, why


def test_an_event_loaded_before_with_other_content_is_caught_by_the_rebuilt_key(both_ways, warehouse_url):
    def load():
        load_typed(warehouse_url, "usage_events", [event(i) for i in range(30)], EVENT_TYPES)
        # 25-29 again, renamed: the batch is larger than the table, so the bulk path tries it first
        load_typed(warehouse_url, "usage_events", [event(i, event_name="export") for i in range(25, 90)], EVENT_TYPES)
        # an overlap re-read: smaller than the table, straight to the careful path
        load_typed(warehouse_url, "usage_events", [event(i, event_name="export") for i in range(30, 36)], EVENT_TYPES)

    careful, bulk, bulk_paths = both_ways("usage_events", load)
    assert bulk_paths == ["bulk", "careful", "careful"]
    assert bulk == careful
    reasons = [q[5] for q in bulk["quarantine"]]
    assert len(reasons) == 5 and reasons[0] == "already loaded with different content: key 25 (batch 2)"


@pytest.mark.parametrize(
    ("types", "why"),
    [
        (None, "values came as text (files, APIs), not from typed database columns"),
        ({**EVENT_TYPES, "occurred_at": "text"}, "occurred_at came as text, not as a date or time type"),
    ],
)
def test_times_that_did_not_come_typed_are_checked_value_by_value(warehouse, warehouse_url, monkeypatch, caplog,
                                                                   types, why):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    monkeypatch.setattr(loader, "BULK_MIN_ROWS", 1)
    rows = [event(1), event(2, occurred_at="20261101 10:00")]  # Postgres reads it; the contract says ISO 8601
    with caplog.at_level("INFO", logger=loader.__name__):
        load_typed(warehouse_url, "usage_events", rows, types)
    assert paths(warehouse) == ["careful"]
    assert why in caplog.text
    assert table(warehouse, "SELECT reason FROM meta.quarantine") == [("unparseable occurred_at: '20261101 10:00'",)]


def index_and_constraint_definitions(conn, name: str) -> list[tuple]:
    return table(conn, """SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass
                          UNION ALL
                          SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
                          WHERE conrelid = %s::regclass ORDER BY 1""", [name, name])


def test_the_bulk_path_leaves_every_index_and_constraint_as_it_found_them(warehouse, warehouse_url, monkeypatch):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    before = index_and_constraint_definitions(warehouse, "staging.usage_events")
    assert len(before) >= 4, before
    monkeypatch.setattr(loader, "BULK_MIN_ROWS", 1)
    load_typed(warehouse_url, "usage_events", [event(i) for i in range(20)], EVENT_TYPES)
    load_typed(warehouse_url, "usage_events", [event(i) for i in range(20, 60)] + [event(20)], EVENT_TYPES)  # rolled back
    assert paths(warehouse) == ["bulk", "careful"]
    assert index_and_constraint_definitions(warehouse, "staging.usage_events") == before
    with pytest.raises(psycopg.errors.UniqueViolation):
        warehouse.execute("INSERT INTO staging.usage_events (event_id, account_id, event_name, occurred_at, _source, _batch_id)"
                          " VALUES ('1', 'a1', 'login', now(), 't', 0)")


def test_a_product_database_backfill_through_the_real_extractor(both_ways, warehouse_url, product_db_url):
    """Typed values straight from Postgres: the extractor reports their types and the batch's cursor."""
    with psycopg.connect(product_db_url, autocommit=True) as conn:
        conn.execute(PRODUCT_SCHEMA)
        # A server whose default date style is not ISO must still hand over ISO 8601.
        conn.execute("SELECT set_config('DateStyle', 'SQL, DMY', false)")
        conn.execute(f'ALTER DATABASE "{conn.info.dbname}" SET DateStyle = \'SQL, DMY\'')
    add_events(product_db_url, 1, 120, "2026-11-21")  # every 10th event: a workspace without a CRM id
    with psycopg.connect(product_db_url, autocommit=True) as conn:
        conn.execute("UPDATE app.events SET organization_id = 3 WHERE id IN (7, 8)")  # known to the product, not the CRM
        conn.execute("UPDATE app.organizations SET crm_company_id = '' WHERE id = 2")  # an empty id is no id

    def ingest():
        result = ingest_stream("product_db", "usage_events", warehouse_url=warehouse_url)
        assert result.cursor_to == "2026-11-21T09:59:00.000000"

    try:
        careful, bulk, bulk_paths = both_ways("usage_events", ingest)
    finally:
        with psycopg.connect(product_db_url, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{conn.info.dbname}" RESET DateStyle')
    assert bulk_paths == ["bulk"]
    assert bulk == careful
    assert len(bulk["staging"]) == 120 - 12 - 2
    assert {q[5] for q in bulk["quarantine"]} == {"missing account_id",
                                                   "unknown account_id: 'ghost' (not in the CRM accounts)"}


@pytest.mark.parametrize(("bad", "kind"), [({"occurred_at": "2031-01-01 00:00:00+00"}, "in the future"),
                                         ({"event_id": "e" * 8000}, "oversized key")])
def test_a_future_event_or_a_key_too_long_for_its_index_rolls_the_bulk_path_back_to_the_careful_one(both_ways,
                                                                                                   warehouse_url,
                                                                                                   bad, kind):
    """Issue 15: a 2031 event must not count and the rebuilt index refuses an 8,000-character key: neither
    fails the backfill, and each ends in quarantine as on the careful path."""
    rows = [event(i) for i in range(200)] + [event(200, **bad)]
    careful, bulk, bulk_paths = both_ways("usage_events", lambda: load_typed(warehouse_url, "usage_events", rows,
                                                                            EVENT_TYPES))
    assert bulk_paths == ["careful"]
    assert bulk == careful
    assert [q[5].split(":")[0] for q in bulk["quarantine"]] == [kind]
    assert len(bulk["staging"]) == 200
