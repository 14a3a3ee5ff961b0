"""marts.accounts: one row per account version, read as of a day, built the same way twice."""
from __future__ import annotations

from datetime import date

from customer_health.scoring.pipeline import build_accounts
from tests.helpers import accounts, load_rows

MON, TUE, WED, THU = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19)


def versions(conn):
    return conn.execute(
        """SELECT account_id, valid_from, valid_to, name, employees, csm_name, csm_email, arr, renewal_date
           FROM marts.accounts ORDER BY account_id, valid_from NULLS FIRST""").fetchall()


def as_of(conn, day):
    return dict(conn.execute("SELECT account_id, name FROM marts.accounts_as_of(%s)", [day]).fetchall())


def crm(url, **changes):
    rows = accounts("a1", "a2")
    for row in rows:
        row["csm_owner_id"] = "7"
        row.update(changes.get(row["account_id"], {}))
    load_rows(url, "crm_accounts", rows)


def test_a_crm_change_between_two_days_gives_two_versions_and_as_of_reads_pick_the_right_one(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_owners", [{"owner_id": "7", "email": "aiko@example.jp", "name": "Aiko"}])
    crm(warehouse_url)
    load_rows(warehouse_url, "crm_contracts", [{"contract_id": "k1", "account_id": "a1", "start_date": "2026-01-01",
                                                "end_date": "2027-01-01", "arr": "12000", "status": "active"}])
    build_accounts(MON, warehouse_url)
    crm(warehouse_url, a1={"name": "Renamed", "employees": "80"})
    build_accounts(TUE, warehouse_url)

    assert versions(warehouse) == [
        ("a1", None, TUE, "Account a1", 50, "Aiko", "aiko@example.jp", 12000, date(2027, 1, 1)),
        ("a1", TUE, None, "Renamed", 80, "Aiko", "aiko@example.jp", 12000, date(2027, 1, 1)),
        ("a2", None, None, "Account a2", 50, "Aiko", "aiko@example.jp", None, None),
    ]
    # The first version stands for the days before the first build; the change counts from its day.
    assert as_of(warehouse, date(2026, 1, 5)) == {"a1": "Account a1", "a2": "Account a2"}
    assert as_of(warehouse, MON) == {"a1": "Account a1", "a2": "Account a2"}
    assert as_of(warehouse, TUE) == {"a1": "Renamed", "a2": "Account a2"}
    assert as_of(warehouse, WED) == {"a1": "Renamed", "a2": "Account a2"}
    assert dict(warehouse.execute("SELECT account_id, name FROM marts.accounts_current").fetchall()) == as_of(warehouse, WED)


def test_rebuilding_a_day_is_idempotent_and_a_same_day_change_corrects_that_days_version(warehouse, warehouse_url):
    crm(warehouse_url)
    build_accounts(MON, warehouse_url)
    crm(warehouse_url, a1={"name": "Renamed"})
    build_accounts(TUE, warehouse_url)
    once = versions(warehouse)
    build_accounts(TUE, warehouse_url)
    assert versions(warehouse) == once, "the same staging built twice changes nothing"
    built_at = warehouse.execute("SELECT array_agg(built_at ORDER BY account_id, valid_from) FROM marts.accounts").fetchone()
    build_accounts(WED, warehouse_url)
    assert warehouse.execute("SELECT array_agg(built_at ORDER BY account_id, valid_from) FROM marts.accounts").fetchone() == built_at

    # The CRM changes, Wednesday (the latest day built) is built again: the change counts from Wednesday;
    # a further change built on Wednesday corrects Wednesday's version instead of splitting the day.
    crm(warehouse_url, a1={"name": "Renamed again"})
    build_accounts(WED, warehouse_url)
    crm(warehouse_url, a1={"name": "Renamed a third time"})
    build_accounts(WED, warehouse_url)
    assert [(v[1], v[2], v[3]) for v in versions(warehouse) if v[0] == "a1"] == [
        (None, TUE, "Account a1"), (TUE, WED, "Renamed"), (WED, None, "Renamed a third time")]


def test_an_account_that_leaves_the_crm_closes_and_a_backfill_never_rewrites_history(warehouse, warehouse_url):
    crm(warehouse_url)
    build_accounts(TUE, warehouse_url)
    warehouse.execute("DELETE FROM staging.crm_accounts WHERE account_id = 'a2'")
    build_accounts(WED, warehouse_url)
    assert as_of(warehouse, TUE) == {"a1": "Account a1", "a2": "Account a2"}
    assert as_of(warehouse, WED) == {"a1": "Account a1"}

    # A backfill of Monday after a CRM change: the days already built (through Wednesday) keep what
    # they were built with; the change counts from the day after.
    crm(warehouse_url, a1={"name": "Renamed"})
    build_accounts(MON, warehouse_url)
    assert as_of(warehouse, MON)["a1"] == "Account a1"
    assert as_of(warehouse, WED)["a1"] == "Account a1"
    assert as_of(warehouse, THU)["a1"] == "Renamed"
    (overlaps,) = warehouse.execute(
        """SELECT count(*) FROM marts.accounts AS x JOIN marts.accounts AS y
             ON x.account_id = y.account_id AND x.ctid < y.ctid
            AND daterange(x.valid_from, x.valid_to) && daterange(y.valid_from, y.valid_to)""").fetchone()
    assert overlaps == 0


def test_every_column_is_documented(warehouse):
    undocumented = warehouse.execute(
        """SELECT a.attname FROM pg_attribute AS a
           WHERE a.attrelid = 'marts.accounts'::regclass AND a.attnum > 0 AND NOT a.attisdropped
             AND col_description(a.attrelid, a.attnum) IS NULL""").fetchall()
    assert undocumented == []
