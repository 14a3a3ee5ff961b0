"""Point in time: a past day's KPIs and score read the CRM, licences and users as the warehouse knew them then.

The loads run through the real loader into a real Postgres; the KPI build and
the scoring are the product's own. Loads happen "now", so the days of the story
are counted back from today (UTC); a dated snapshot (``observed_at``) stands
for a load on an earlier day.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from customer_health.config.kpis import KpisFile
from customer_health.config.scorecards import load_scorecards
from customer_health.evaluation.evaluate import SNAPSHOT_KPIS, not_point_in_time
from customer_health.kpis import build_kpis, rebuild_kpis
from customer_health.scoring.engine import register_version, score_day
from customer_health.sources.hubspot import HubSpotExtractor, HubSpotStream
from customer_health.sources.postgres import PostgresExtractor, PostgresStream
from customer_health.warehouse.history import HistoryOrderError
from demo.history import SOURCES, load_snapshots, snapshot_days, snapshot_rows, write_snapshots
from demo.world import WORLD_ANCHOR, build_world
from tests.helpers import load_rows

CONFIG = KpisFile(login_event="login", core_actions=["report_export"], milestones=[])
DAY = timedelta(days=1)
TODAY = datetime.now(timezone.utc).date()
D = TODAY - 10 * DAY
SCORECARDS = """
bands: {red: 40, green: 70}
min_coverage: 0.5
scorecards:
  - name: all
    groups:
      usage:
        weight: 1
        measures:
          util: {kpi: seat_utilisation, direction: higher_is_better, method: thresholds, red: 0.2, green: 0.9, weight: 1}
          seats: {kpi: licensed_seats, direction: higher_is_better, method: thresholds, red: 5, green: 30, weight: 1}
      financial:
        weight: 1
        measures:
          arr: {kpi: arr, direction: higher_is_better, method: thresholds, red: 5000, green: 50000, weight: 1}
"""


def at(day: date, hour: int = 2) -> datetime:
    return datetime.combine(day, time(hour), timezone.utc)


def account(account_id: str, employees: int) -> dict:
    return {"account_id": account_id, "name": account_id.title(), "employees": str(employees),
            "lifecycle_stage": "customer", "created_at": (TODAY - 200 * DAY).isoformat()}


def user(user_id: str, account_id: str = "acme") -> dict:
    return {"user_id": user_id, "account_id": account_id, "created_at": (TODAY - 150 * DAY).isoformat(),
            "role": "member"}


def contract(arr: int) -> dict:
    return {"contract_id": "c1", "account_id": "acme", "start_date": (TODAY - 100 * DAY).isoformat(),
            "end_date": (TODAY + 265 * DAY).isoformat(), "arr": str(arr), "status": "active"}


def logins(days) -> list[dict]:
    return [{"event_id": f"e-{u}-{d}", "account_id": "acme", "user_id": u, "event_name": "login",
             "occurred_at": at(d, 9).isoformat(), "duration_seconds": "60"}
            for d in days for u in ("u1", "u2")]


def kpi_row(conn, account_id: str, day: date) -> dict | None:
    cur = conn.execute("SELECT * FROM marts.account_daily_kpis WHERE account_id = %s AND day = %s", [account_id, day])
    row = cur.fetchone()
    return None if row is None else dict(zip([c.name for c in cur.description], row, strict=True))


def score_row(conn, day: date, version: str):
    return conn.execute("SELECT score, band, coverage FROM marts.health_scores WHERE account_id = 'acme' AND day = %s "
                        "AND config_version = %s", [day, version]).fetchone()


def history_rows(conn) -> list[tuple]:
    return conn.execute(
        """SELECT 'licences', account_id, seats::text, valid_from, valid_to, deleted FROM history.licences
           UNION ALL SELECT 'users', user_id, account_id, valid_from, valid_to, deleted FROM history.users
           ORDER BY 1, 2, 4 NULLS FIRST""").fetchall()


@pytest.fixture
def version(tmp_path, warehouse):
    path = tmp_path / "scorecards.yml"
    path.write_text(SCORECARDS, encoding="utf-8")
    config, version = load_scorecards(path)
    register_version(warehouse, config, version, SCORECARDS)
    return config, version


def test_a_later_crm_snapshot_changes_no_past_day_but_the_days_after_it(warehouse, warehouse_url, version):
    config, tag = version
    load_rows(warehouse_url, "crm_accounts", [account("acme", 40)], complete=True)
    load_rows(warehouse_url, "crm_contracts", [contract(12000)], complete=True)
    load_rows(warehouse_url, "licences", [{"account_id": "acme", "seats": "10"}], complete=True)
    load_rows(warehouse_url, "users", [user("u1"), user("u2"), user("u3")], complete=True)
    load_rows(warehouse_url, "usage_events", logins([D - 3 * DAY, D - DAY, TODAY - DAY]))
    rebuild_kpis(warehouse, D - 5 * DAY, TODAY, CONFIG)
    score_day(warehouse, D, config, tag)
    before, score_before = kpi_row(warehouse, "acme", D), score_row(warehouse, D, tag)
    assert (before["licensed_seats"], before["issued_seats"], before["arr"], before["employees"]) == (10, 3, 12000, 40)
    assert score_before is not None

    # The CRM and the product a little later: more seats, a bigger contract, a bigger company, u3 removed.
    second = [
        load_rows(warehouse_url, "crm_accounts", [account("acme", 80)], complete=True),
        load_rows(warehouse_url, "crm_contracts", [contract(24000)], complete=True),
        load_rows(warehouse_url, "licences", [{"account_id": "acme", "seats": "20"}], complete=True),
        load_rows(warehouse_url, "users", [user("u1"), user("u2")], complete=True),
    ]
    assert [(r.rows_updated, r.rows_deleted) for r in second] == [(1, 0), (1, 0), (1, 0), (0, 1)]

    # The daily build of D, then a full rebuild over a window around it: D is as it was.
    build_kpis(warehouse, D, CONFIG)
    score_day(warehouse, D, config, tag)
    assert kpi_row(warehouse, "acme", D) == before
    assert score_row(warehouse, D, tag) == score_before
    rebuild_kpis(warehouse, D - 5 * DAY, TODAY, CONFIG)
    score_day(warehouse, D, config, tag)
    assert kpi_row(warehouse, "acme", D) == before
    assert score_row(warehouse, D, tag) == score_before
    yesterday = kpi_row(warehouse, "acme", TODAY - DAY)
    assert (yesterday["licensed_seats"], yesterday["issued_seats"], yesterday["arr"]) == (10, 3, 12000)

    # The day of the second load (a load at any hour holds at that day's end) sees the new values.
    today = kpi_row(warehouse, "acme", TODAY)
    assert (today["licensed_seats"], today["issued_seats"], today["arr"], today["employees"]) == (20, 2, 24000, 80)
    score_day(warehouse, TODAY, config, tag)
    assert score_row(warehouse, TODAY, tag) != score_before


def test_a_complete_snapshot_deletes_what_it_lacks_from_that_day_and_a_rerun_changes_nothing(warehouse, warehouse_url):
    first, second = TODAY - 30 * DAY, TODAY - 20 * DAY
    load_rows(warehouse_url, "crm_accounts", [account("acme", 40), account("beta", 10)], complete=True,
              observed_at=at(first))
    load_rows(warehouse_url, "licences", [{"account_id": "acme", "seats": "10"}, {"account_id": "beta", "seats": "5"}],
              complete=True, observed_at=at(first))
    load_rows(warehouse_url, "users", [user("u1"), user("u2"), user("u3")], complete=True, observed_at=at(first))

    def snapshot():
        return [load_rows(warehouse_url, "licences", [{"account_id": "acme", "seats": "10"}], complete=True,
                          observed_at=at(second)),
                load_rows(warehouse_url, "users", [user("u1"), user("u2")], complete=True, observed_at=at(second))]

    assert [r.rows_deleted for r in snapshot()] == [1, 1]
    assert warehouse.execute("SELECT account_id FROM staging.licences").fetchall() == [("acme",)]
    assert warehouse.execute("SELECT user_id FROM staging.users ORDER BY 1").fetchall() == [("u1",), ("u2",)]
    deleted = warehouse.execute(
        "SELECT account_id, valid_to FROM history.licences WHERE deleted").fetchall()
    assert deleted == [("beta", at(second))]
    recorded = history_rows(warehouse)

    rebuild_kpis(warehouse, first - 5 * DAY, TODAY, CONFIG)
    assert [kpi_row(warehouse, "acme", d)["issued_seats"] for d in (first - 5 * DAY, second - DAY, second, TODAY)] == [3, 3, 2, 2]
    assert [kpi_row(warehouse, "beta", d)["licensed_seats"] for d in (first - 5 * DAY, second - DAY, second)] == [5, 5, None]

    # The same snapshot again: nothing deleted, nothing versioned, the KPIs as they were.
    kpis_before = warehouse.execute("SELECT * FROM marts.account_daily_kpis ORDER BY account_id, day").fetchall()
    again = snapshot()
    assert [(r.rows_deleted, r.rows_inserted, r.rows_updated, r.rows_unchanged) for r in again] == [(0, 0, 0, 1), (0, 0, 0, 2)]
    assert history_rows(warehouse) == recorded
    rebuild_kpis(warehouse, first - 5 * DAY, TODAY, CONFIG)
    assert warehouse.execute("SELECT * FROM marts.account_daily_kpis ORDER BY account_id, day").fetchall() == kpis_before

    # A snapshot dated before what history records would rewrite it: refused, nothing changes.
    with pytest.raises(HistoryOrderError, match="load dated snapshots oldest first"):
        load_rows(warehouse_url, "users", [user("u1")], complete=True, observed_at=at(first + DAY))
    assert history_rows(warehouse) == recorded

    # A deleted user back at the source opens a new version from its load.
    load_rows(warehouse_url, "users", [user("u1"), user("u2"), user("u3")], complete=True, observed_at=at(TODAY - 5 * DAY))
    rebuild_kpis(warehouse, TODAY - 7 * DAY, TODAY, CONFIG)
    assert [kpi_row(warehouse, "acme", d)["issued_seats"] for d in (TODAY - 6 * DAY, TODAY - 5 * DAY)] == [2, 3]


def test_an_incremental_load_never_deletes(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", [account("acme", 40)], complete=True)
    load_rows(warehouse_url, "users", [user("u1"), user("u2"), user("u3")], complete=True)
    page = load_rows(warehouse_url, "users", [user("u1")])  # an incremental page: only what changed
    assert (page.complete, page.rows_deleted) == (False, 0)
    assert warehouse.execute("SELECT count(*) FROM staging.users").fetchone() == (3,)
    assert warehouse.execute("SELECT count(*) FROM history.users WHERE valid_to IS NULL").fetchone() == (3,)
    batch = warehouse.execute("SELECT complete, rows_deleted FROM meta.load_batches WHERE batch_id = %s",
                              [page.batch_id]).fetchone()
    assert batch == (False, 0)


def test_a_snapshot_deletes_only_its_own_source_s_rows_and_never_a_row_it_quarantined(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", [account("acme", 40)], complete=True)
    load_rows(warehouse_url, "licences", [{"account_id": "acme", "seats": "10"}], source="billing", complete=True)
    load_rows(warehouse_url, "users", [user("u1"), user("u2"), user("u3")], source="product_db", complete=True)
    # Another system's complete list of licences says nothing about the product's users, nor about
    # licences it never wrote; a user whose row now carries a bad date still exists at the source.
    other = load_rows(warehouse_url, "licences", [], source="sales_sheet", complete=True)
    bad = user("u2") | {"created_at": "not a date"}
    kept = load_rows(warehouse_url, "users", [user("u1"), bad, user("u3")], source="product_db", complete=True)
    assert (other.rows_deleted, kept.rows_deleted, kept.rows_quarantined) == (0, 0, 1)
    assert warehouse.execute("SELECT count(*) FROM staging.licences").fetchone() == (1,)
    assert warehouse.execute("SELECT count(*) FROM history.users WHERE valid_to IS NULL").fetchone() == (3,)


def test_a_snapshot_that_lost_most_rows_deletes_none_and_says_so(warehouse, warehouse_url, caplog):
    load_rows(warehouse_url, "crm_accounts", [account("acme", 40)], complete=True)
    load_rows(warehouse_url, "users", [user(f"u{i}") for i in range(12)], complete=True)
    broken = load_rows(warehouse_url, "users", [user("u0"), user("u1")], complete=True)
    assert (broken.rows_deleted, broken.rows_deletion_withheld) == (0, 10)
    assert "deleting none" in caplog.text
    assert warehouse.execute("SELECT count(*) FROM staging.users").fetchone() == (12,)
    assert warehouse.execute("SELECT rows_deletion_withheld FROM meta.load_batches WHERE batch_id = %s",
                             [broken.batch_id]).fetchone() == (10,)


def test_which_extractions_are_complete():
    pg = PostgresExtractor("product_db", None, None)
    assert pg.is_complete(None, PostgresStream(query="extract/product_db/licences.sql"), None)
    assert not pg.is_complete(None, PostgresStream(query="extract/product_db/usage_events.sql", incremental=True), "c")
    hs = HubSpotExtractor("crm", None, None)
    companies = HubSpotStream(object="companies", properties={"account_id": "id"})
    assert hs.is_complete(None, companies, None)  # the first load reads everything
    assert not hs.is_complete(None, companies, "2026-11-01T00:00:00Z")  # later ones only what changed
    assert hs.is_complete(None, companies.model_copy(update={"mode": "full"}), "2026-11-01T00:00:00Z")



def test_the_evaluation_flags_snapshot_kpis_only_on_reference_dates_before_their_history(warehouse, warehouse_url):
    first = TODAY - 60 * DAY
    assert set(not_point_in_time(warehouse, [first])) == set(SNAPSHOT_KPIS)  # nothing loaded: nothing is known
    load_rows(warehouse_url, "crm_accounts", [account("acme", 40)], complete=True, observed_at=at(first))
    load_rows(warehouse_url, "licences", [{"account_id": "acme", "seats": "10"}], complete=True, observed_at=at(first))
    load_rows(warehouse_url, "users", [user("u1")], complete=True, observed_at=at(first))
    assert not_point_in_time(warehouse, [first, first + 30 * DAY]) == {}
    flagged = not_point_in_time(warehouse, [first - 30 * DAY, first, first + 30 * DAY])
    assert set(flagged) == set(SNAPSHOT_KPIS)
    assert flagged["licensed_seats"] == (f"the history of licences starts on {first}: 1 of 3 reference dates precede it "
                                         "and read the earliest version loaded, not what was known then")


def test_the_demo_loads_dated_snapshots_so_no_churner_shows_its_final_state_before_it_churned(
        warehouse, warehouse_url, tmp_path):
    world = build_world(60, 7)
    end = WORLD_ANCHOR
    start = end - 179 * DAY
    days = snapshot_days(start, end)
    write_snapshots(tmp_path, world, start, end)
    assert load_snapshots(warehouse_url, tmp_path / "snapshots") == 4 * len(days)
    # The ingest DAGs then find the same end state, now: nothing changes; a second demo run loads no snapshot.
    final = snapshot_rows(world, end)
    for stream in ("crm_accounts", "crm_contracts", "licences", "users"):
        r = load_rows(warehouse_url, stream, final[stream], source=SOURCES[stream], complete=True, keep_raw=False)
        assert (r.rows_inserted, r.rows_updated, r.rows_deleted, r.rows_quarantined) == (0, 0, 0, 0), stream
    assert load_snapshots(warehouse_url, tmp_path / "snapshots") == 0

    rebuild_kpis(warehouse, start + 30 * DAY, end, CONFIG)
    seats = {(a, d): s for a, d, s in warehouse.execute(
        "SELECT account_id, day, licensed_seats FROM marts.account_daily_kpis")}
    churners = [a for a in world.accounts if a.churn_date and start + 30 * DAY < a.churn_date <= days[-2]]
    assert len(churners) >= 3
    for a in churners:
        before = [seats[(a.company_id, d)] for d in (start + 30 * DAY, a.churn_date - DAY) if d >= a.created_on]
        assert all(s and s > 0 for s in before), (a.company_id, a.churn_date, before)
        # Known from the first snapshot after the churn on: no seats.
        assert seats[(a.company_id, end)] == 0
