"""The batch loader against a real Postgres: quarantine, idempotence, atomicity, concurrency."""
from __future__ import annotations

import threading

import pytest

from customer_health.warehouse import loader
from tests.helpers import accounts, load_rows, table


def nps(response_id, account, answer, submitted="2026-11-01T10:00:00Z", survey="nps", question="nps"):
    return {"response_id": response_id, "account_id": account, "respondent": "u@example.com", "survey": survey,
            "question_id": question, "answer": answer, "submitted_at": submitted}


def test_each_kind_of_bad_row_is_quarantined_with_its_reason_and_the_rest_loads(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    result = load_rows(warehouse_url, "survey_responses", [
        nps("r1", "a1", "9"),                                   # good
        nps("r2", "a1", "11"),                                  # NPS out of range
        nps("r3", None, "7"),                                   # missing account id
        nps("r4", "ghost", "7"),                                # account the CRM does not know
        nps("r5", "a1", "8", submitted="31/02/2026"),           # unparseable date
        nps("r6", "a1", "3"), nps("r6", "a1", "4"),             # same id, different content
        nps("r7", "a1", "5", survey="csat", question="csat"),   # good CSAT
        nps("r8", "a1", "6", survey="csat", question="csat"),   # CSAT out of range
    ])
    reasons = dict(table(warehouse, "SELECT line, reason FROM meta.quarantine ORDER BY line"))
    assert reasons == {
        2: "NPS answer must be 0-10, got 11",
        3: "missing account_id",
        4: "unknown account_id: 'ghost' (not in the CRM accounts)",
        5: "unparseable submitted_at: '31/02/2026'",
        6: "duplicate key in this batch with different content: r6/nps",
        7: "duplicate key in this batch with different content: r6/nps",
        9: "CSAT answer must be 1-5, got 6",
    }
    assert table(warehouse, "SELECT response_id FROM staging.survey_responses ORDER BY 1") == [("r1",), ("r7",)]
    payload = table(warehouse, "SELECT payload FROM meta.quarantine WHERE line = 5")[0][0]
    assert payload["submitted_at"] == "31/02/2026" and payload["response_id"] == "r5"
    assert (result.rows_received, result.rows_inserted, result.rows_quarantined) == (9, 2, 7)


def test_rerunning_the_same_batch_leaves_the_same_warehouse(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1", "a2"))
    rows = [nps("r1", "a1", "9"), nps("r2", "a2", "2"), nps("bad", "a1", "99")]
    first = load_rows(warehouse_url, "survey_responses", rows)
    snapshot = table(warehouse, "SELECT response_id, answer, _batch_id FROM staging.survey_responses ORDER BY 1")
    second = load_rows(warehouse_url, "survey_responses", rows)
    assert table(warehouse, "SELECT response_id, answer, _batch_id FROM staging.survey_responses ORDER BY 1") == snapshot
    assert (first.rows_inserted, second.rows_inserted, second.rows_unchanged) == (2, 0, 2)
    assert table(warehouse, "SELECT count(*) FROM meta.quarantine") == [(1,)], "a rerun must not duplicate quarantine"


def test_mutable_rows_are_updated_and_counted(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1", "a2"))
    changed = accounts("a1", "a2")
    changed[0]["name"] = "Renamed"
    result = load_rows(warehouse_url, "crm_accounts", changed)
    assert (result.rows_inserted, result.rows_updated, result.rows_unchanged) == (0, 1, 1)
    assert table(warehouse, "SELECT name FROM staging.crm_accounts WHERE account_id = 'a1'") == [("Renamed",)]


def test_an_immutable_row_arriving_changed_is_quarantined_not_applied(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    load_rows(warehouse_url, "survey_responses", [nps("r1", "a1", "9")])
    load_rows(warehouse_url, "survey_responses", [nps("r1", "a1", "3")])
    assert table(warehouse, "SELECT answer FROM staging.survey_responses") == [(9,)]
    (reason,) = table(warehouse, "SELECT reason FROM meta.quarantine")[0]
    assert reason.startswith("already loaded with different content: key r1/nps")


def test_a_load_that_fails_half_way_leaves_the_previous_state(warehouse, warehouse_url, monkeypatch):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    load_rows(warehouse_url, "survey_responses", [nps("r1", "a1", "9")], cursor="2026-11-01")

    def state():
        return [
            table(warehouse, f"SELECT count(*) FROM {t}")
            for t in ("raw.survey_responses", "staging.survey_responses", "meta.quarantine", "meta.load_batches")
        ] + [table(warehouse, "SELECT cursor FROM meta.source_state WHERE stream = 'survey_responses'")]

    before = state()

    def killed(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(loader, "_merge", killed)
    with pytest.raises(RuntimeError, match="worker killed"):
        load_rows(warehouse_url, "survey_responses", [nps("r2", "a1", "8"), nps("bad", None, "1")], cursor="2026-11-02")
    assert state() == before


def test_concurrent_loads_of_the_same_stream_never_duplicate(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    events = [
        {"event_id": f"e{i}", "account_id": "a1", "event_name": "login", "occurred_at": f"2026-11-01T10:{i % 60:02d}:00Z"}
        for i in range(2000)
    ]
    results, errors = [], []

    def run():
        try:
            results.append(load_rows(warehouse_url, "usage_events", events))
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert table(warehouse, "SELECT count(*), count(DISTINCT event_id) FROM staging.usage_events") == [(2000, 2000)]
    assert sorted(r.rows_inserted for r in results) == [0, 0, 2000]


def test_rows_waiting_for_an_unknown_account_rejoin_once_the_crm_knows_it(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    first = load_rows(warehouse_url, "survey_responses", [nps("r1", "a1", "9"), nps("r2", "new", "7")])
    assert first.rows_quarantined == 1
    load_rows(warehouse_url, "crm_accounts", accounts("a1", "new"))
    later = load_rows(warehouse_url, "survey_responses", [nps("r3", "a1", "8")])
    assert later.rows_inserted == 2
    assert table(warehouse, "SELECT response_id FROM staging.survey_responses ORDER BY 1") == [("r1",), ("r2",), ("r3",)]
    assert table(warehouse, "SELECT released_in_batch FROM meta.quarantine") == [(later.batch_id,)]


def test_the_cursor_is_the_largest_received_and_never_moves_back(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    assert load_rows(warehouse_url, "survey_responses", [nps("r1", "a1", "9")], cursor="2026-11-05").cursor_to == "2026-11-05"
    assert load_rows(warehouse_url, "survey_responses", [nps("r0", "a1", "9")], cursor="2026-11-01").cursor_to == "2026-11-05"
    assert load_rows(warehouse_url, "survey_responses", [], cursor=None).cursor_to == "2026-11-05"


def test_a_source_that_keeps_no_raw_copy_still_quarantines_with_payload(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    load_rows(warehouse_url, "usage_events", [
        {"event_id": "e1", "account_id": "a1", "event_name": "login", "occurred_at": "2026-11-01T10:00:00Z"},
        {"event_id": "e2", "account_id": "a1", "event_name": "login", "occurred_at": "yesterday"},
    ], keep_raw=False)
    assert table(warehouse, "SELECT count(*) FROM raw.usage_events") == [(0,)]
    assert table(warehouse, "SELECT record_key, payload->>'occurred_at' FROM meta.quarantine") == [("e2", "yesterday")]


def test_a_well_formed_date_that_does_not_exist_is_quarantined_not_fatal(warehouse, warehouse_url):
    """It passes the shape check, so the fast cast meets it first and must hand over to the exact one."""
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    result = load_rows(warehouse_url, "usage_events", [
        {"event_id": "e1", "account_id": "a1", "event_name": "login", "occurred_at": "2026-11-01T10:00:00Z"},
        {"event_id": "e2", "account_id": "a1", "event_name": "login", "occurred_at": "2026-02-30T10:00:00Z"},
        {"event_id": "e3", "account_id": "a1", "event_name": "login", "occurred_at": "2026-11-01T10:00:00Z",
         "duration_seconds": "1e999999"},
    ])
    assert (result.rows_inserted, result.rows_quarantined) == (1, 2)
    assert table(warehouse, "SELECT record_key, reason FROM meta.quarantine ORDER BY line") == [
        ("e2", "unparseable occurred_at: '2026-02-30T10:00:00Z'"),
        ("e3", "unparseable duration_seconds: '1e999999'"),
    ]


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2026-11-22", True), ("2024-02-29", True), ("2026-02-29", False), ("2026-02-30", False),
        ("2026-13-01", False), ("2026-11-22T10:11:12Z", True), ("2026-11-22 10:11:12.123456+09:00", True),
        ("2026-11-22T25:00:00Z", False), ("31/02/2026", False), ("", False), ("0000-01-01", False),
    ],
)
def test_safe_timestamp_cast_accepts_exactly_the_valid_values(warehouse, text, valid):
    (value,) = warehouse.execute("SELECT util.try_timestamptz(%s)", [text]).fetchone()
    assert (value is not None) == valid
