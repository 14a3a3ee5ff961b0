"""The account kinds of kpis.yml (tenure, contract, survey, crm) and distinct users / features over filtered events.

On the hand-made story of test_kpis.py (acme created 2026-01-15 with 40
employees, contract c1 2025-03-15 .. 2026-03-15 renewed by c2 from 03-15, NPS
6 on 02-20, 9 and 3 on 03-10, 10 on 03-12, CSAT 4 / 5 / 2 on 2025-12-01,
01-15 and 03-05; gone's one contract churned on 03-01; beta has none): every
expected number is worked out here, the kinds that restate a standard KPI
must equal it on every row, the daily path must equal a rebuild, and a later
CRM load must not change an earlier day (point in time).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from customer_health.config.kpis import KpisFile
from customer_health.kpis import build_kpis, rebuild_kpis
from tests.helpers import forget_kpis, load_rows
from tests.integration.test_kpis import CONFIG, END, START, load_story


def kpi(kind: str, spec: dict) -> dict:
    return {"label": "L", "description": "d", kind: spec}


KINDS = {
    "age_days": kpi("tenure", {"since": "crm_created"}),
    "days_using": kpi("tenure", {"since": "first_event"}),
    "c_arr": kpi("contract", {"fact": "arr"}),
    "c_days_to_renewal": kpi("contract", {"fact": "days_to_renewal"}),
    "c_renewals": kpi("contract", {"fact": "renewals_so_far"}),
    "c_term_days": kpi("contract", {"fact": "days_since_contract_start"}),
    "nps_last": kpi("survey", {"survey": "nps"}),
    "nps_age": kpi("survey", {"survey": "nps", "measure": "age_days"}),
    "nps_avg_30d": kpi("survey", {"survey": "nps", "measure": "average", "window_days": 30}),
    "csat_last": kpi("survey", {"survey": "csat", "measure": "latest"}),
    "csat_age": kpi("survey", {"survey": "csat", "measure": "age_days"}),
    "csat_avg_90": kpi("survey", {"survey": "csat", "measure": "average", "window_days": 90}),
    "crm_employees": kpi("crm", {"property": "employees"}),
    "users_7d": kpi("distinct", {"of": "users", "window": 7}),
    "users_30d": kpi("distinct", {"of": "users", "window": 30}),
    "login_users_7d": kpi("distinct", {"of": "users", "events": ["login"], "window": 7}),
    "message_users_30d": kpi("distinct", {"of": "users", "events_matching": "message%", "window": 30}),
    "features_30d": kpi("distinct", {"of": "features", "window": 30}),
    "report_or_message_features_7d": kpi("distinct", {"of": "features", "events": ["report_export", "message_sent"],
                                                      "window": 7}),
    "renewals_per_employee": kpi("ratio", {"numerator": "c_renewals", "denominator": "crm_employees"}),
}
DECLARED = KpisFile.model_validate({**CONFIG.model_dump(), "kpis": KINDS})
NAMES = sorted(KINDS)


def values(conn, account, day) -> dict:
    cur = conn.execute(f"SELECT {', '.join(NAMES)} FROM marts.account_daily_kpis "  # noqa: S608 - names of this file
                       "WHERE account_id = %s AND day = %s", [account, day])
    row = cur.fetchone()
    assert row is not None, (account, day)
    return dict(zip(NAMES, row, strict=True))


def whole(conn, columns, since=date.min):
    return conn.execute(f"SELECT account_id, day, {', '.join(columns)} FROM marts.account_daily_kpis "  # noqa: S608
                        "WHERE day >= %s ORDER BY 1, 2", [since]).fetchall()


@pytest.fixture
def story(warehouse, warehouse_url):
    load_story(warehouse_url)
    rebuild_kpis(warehouse, START, END, DECLARED)
    return warehouse


def test_hand_computed_values_on_the_story(story):
    k = values(story, "acme", date(2026, 3, 10))
    assert (k["age_days"], k["days_using"], k["crm_employees"]) == (54, 49, 40)  # created 01-15, first event 01-20
    # c1 covers 03-10: 12,000, renews 03-15, started 2025-03-15 (360 days), nothing renewed yet
    assert (k["c_arr"], k["c_days_to_renewal"], k["c_term_days"], k["c_renewals"]) == (12000, 5, 360, 0)
    assert (k["nps_last"], k["nps_age"]) == (3, 0)                  # 9 at 18:00, then 3 at 20:00
    assert k["nps_avg_30d"] == pytest.approx((6 + 9 + 3) / 3)       # 02-20 and twice 03-10
    assert (k["csat_last"], k["csat_age"]) == (2, 5)                # 2 on 03-05
    assert k["csat_avg_90"] == pytest.approx((5 + 2) / 2)           # [12-11, 03-10]: 01-15 and 03-05
    assert (k["users_7d"], k["users_30d"], k["login_users_7d"], k["message_users_30d"]) == (3, 4, 3, 1)
    # 30 days [02-09, 03-10]: login, message_sent, report_export, dashboard_view, settings_changed (no user)
    assert k["features_30d"] == 5
    assert k["report_or_message_features_7d"] == 1                  # message_sent 03-10; report_export 03-02 is 8 days back
    assert k["renewals_per_employee"] == 0

    # c2 from today: one renewal; the renewal day itself is 0 days to renewal (c1's end_date), as days_to_renewal
    k = values(story, "acme", date(2026, 3, 15))
    assert (k["c_arr"], k["c_days_to_renewal"], k["c_term_days"], k["c_renewals"]) == (15000, 0, 0, 1)
    k = values(story, "acme", date(2026, 3, 16))
    assert (k["c_arr"], k["c_days_to_renewal"], k["c_term_days"], k["c_renewals"]) == (15000, 364, 1, 1)
    assert k["renewals_per_employee"] == pytest.approx(1 / 40)
    k = values(story, "acme", date(2026, 3, 12))
    assert (k["nps_last"], k["nps_age"], k["nps_avg_30d"]) == (10, 0, pytest.approx((6 + 9 + 3 + 10) / 4))
    k = values(story, "acme", date(2026, 3, 4))
    assert (k["csat_last"], k["csat_age"], k["nps_last"], k["nps_age"]) == (5, 48, 6, 12)
    k = values(story, "acme", date(2026, 4, 15))                    # nothing in 30 days but 04-02 u2 login
    assert (k["users_30d"], k["message_users_30d"], k["features_30d"], k["nps_avg_30d"]) == (1, 0, 1, None)

    gone = values(story, "gone", date(2026, 3, 1))                  # its only contract ends (churned) today
    assert (gone["c_arr"], gone["c_days_to_renewal"], gone["c_term_days"], gone["c_renewals"]) == (0, 0, None, 0)
    assert (gone["crm_employees"], gone["days_using"], gone["age_days"]) == (200, 81, 273)  # login 2025-12-10
    beta = values(story, "beta", date(2026, 3, 20))                 # no contract, no survey, no employees, no event
    assert {n: beta[n] for n in ("c_arr", "c_renewals", "nps_last", "nps_age", "csat_avg_90", "crm_employees",
                                 "days_using", "users_30d", "features_30d")} == {
        "c_arr": None, "c_renewals": None, "nps_last": None, "nps_age": None, "csat_avg_90": None,
        "crm_employees": None, "days_using": None, "users_30d": 0, "features_30d": 0}
    assert beta["age_days"] == 10


def test_the_kinds_that_restate_a_standard_kpi_equal_it_on_every_row(story):
    rows = story.execute(
        """SELECT tenure_days, age_days, employees, crm_employees, arr, c_arr, days_to_renewal, c_days_to_renewal,
                  nps_latest, nps_last, (day - (nps_latest_at AT TIME ZONE 'UTC')::date), nps_age,
                  csat_avg_90d, csat_avg_90, active_users_7d, users_7d, active_users_30d, users_30d,
                  features_used_30d + (logins_30d > 0)::int, features_30d
           FROM marts.account_daily_kpis""").fetchall()
    assert len(rows) == 46 + 46 + 37
    for row in rows:
        for standard, custom in zip(row[::2], row[1::2], strict=True):
            assert (standard is None) == (custom is None), row
            assert standard is None or custom == pytest.approx(float(standard)), row


def test_the_daily_path_equals_a_full_rebuild(warehouse, warehouse_url):
    load_story(warehouse_url)
    days = [START + timedelta(days=n) for n in range(20)]
    rebuild_kpis(warehouse, START - timedelta(days=1), START - timedelta(days=1), DECLARED)
    for day in days:
        build_kpis(warehouse, day, DECLARED)
    daily = whole(warehouse, NAMES, since=START)
    assert len(daily) == 20 * 2 + 11
    forget_kpis(warehouse)
    rebuild_kpis(warehouse, days[0], days[-1], DECLARED)
    assert whole(warehouse, NAMES) == daily


def test_a_changed_declaration_backfills_only_its_own_column(story):
    before = whole(story, NAMES)
    changed = KpisFile.model_validate({**CONFIG.model_dump(), "kpis": {
        **KINDS, "message_users_30d": kpi("distinct", {"of": "users", "events": ["login"], "window": 7}),
        "crm_employees": kpi("contract", {"fact": "days_to_renewal"})}})
    build_kpis(story, END, changed)
    after = whole(story, NAMES)
    assert whole(story, ["message_users_30d"]) == whole(story, ["login_users_7d"])
    assert whole(story, ["crm_employees"]) == whole(story, ["c_days_to_renewal"])
    untouched = [n for n in NAMES if n not in ("message_users_30d", "crm_employees", "renewals_per_employee")]
    columns = [2 + NAMES.index(n) for n in untouched]
    assert [[r[i] for i in columns] for r in after] == [[r[i] for i in columns] for r in before]


def test_no_distinct_users_kpi_keeps_no_per_user_rollup(story):
    assert story.execute("SELECT count(*) FROM intermediate.account_day_user_events").fetchone()[0] > 0
    without = {n: e for n, e in KINDS.items() if not (e.get("distinct") or {}).get("of") == "users"}
    build_kpis(story, END, KpisFile.model_validate({**CONFIG.model_dump(), "kpis": without}))
    assert story.execute("SELECT count(*) FROM intermediate.account_day_user_events").fetchone()[0] == 0
    build_kpis(story, END, DECLARED)  # declared again: all history rolled up once, the same values as before
    assert whole(story, ["users_30d", "login_users_7d"]) == whole(story, ["active_users_30d", "login_users_7d"])


# Point in time: loads happen "now", so the days are counted back from today (as in test_point_in_time.py).
DAY = timedelta(days=1)
TODAY = datetime.now(timezone.utc).date()
D = TODAY - 10 * DAY


def crm_account(employees: int, created: date) -> dict:
    return {"account_id": "acme", "name": "Acme", "employees": str(employees), "lifecycle_stage": "customer",
            "created_at": created.isoformat()}


def contract(arr: int, start: date) -> dict:
    return {"contract_id": "c1", "account_id": "acme", "start_date": start.isoformat(),
            "end_date": (start + 365 * DAY).isoformat(), "arr": str(arr), "status": "active"}


def test_a_later_crm_load_changes_no_earlier_day(warehouse, warehouse_url):
    load_rows(warehouse_url, "crm_accounts", [crm_account(40, TODAY - 200 * DAY)], complete=True)
    load_rows(warehouse_url, "crm_contracts", [contract(12000, TODAY - 100 * DAY)], complete=True)
    rebuild_kpis(warehouse, D - 5 * DAY, TODAY, DECLARED)
    columns = ["age_days", "crm_employees", "c_arr", "c_days_to_renewal", "c_term_days", "renewals_per_employee"]
    before = whole(warehouse, columns)
    assert [r for r in before if r[1] == D] == [("acme", D, 190, 40, 12000, 275, 90, 0)]

    # Today's load: a bigger company, created earlier as the CRM now says, a contract re-dated and re-priced.
    load_rows(warehouse_url, "crm_accounts", [crm_account(80, TODAY - 300 * DAY)], complete=True)
    load_rows(warehouse_url, "crm_contracts", [contract(24000, TODAY - 50 * DAY)], complete=True)
    build_kpis(warehouse, D, DECLARED)
    assert whole(warehouse, columns) == before
    build_kpis(warehouse, TODAY, DECLARED)
    assert whole(warehouse, columns)[:-1] == before[:-1]
    assert whole(warehouse, columns)[-1] == ("acme", TODAY, 300, 80, 24000, 315, 50, 0)
    daily = whole(warehouse, columns)
    rebuild_kpis(warehouse, D - 5 * DAY, TODAY, DECLARED)
    assert whole(warehouse, columns) == daily


SCORECARD = """
bands: {red: 40, green: 70}
min_coverage: 0.5
rollup: {method: mean}
scorecards:
  - name: everyone
    groups:
      relationship:
        weight: 1
        measures:
          renewals: {kpi: renewals_so_far, direction: higher_is_better, method: thresholds, red: 0, green: 2, weight: 1}
          contacts: {kpi: login_users_7d, direction: higher_is_better, method: thresholds, red: 0, green: 2, weight: 1}
"""
KPIS_YAML = """
  renewals_so_far:
    label: Renewals so far
    description: Contract terms that ended and were followed by another.
    contract: {fact: renewals_so_far}
  login_users_7d:
    label: People who logged in (7 days)
    description: Distinct users with a login in the last 7 days.
    distinct: {of: users, events: [login], window: 7}
"""


def test_account_kinds_declared_in_yaml_alone_are_scored(warehouse, warehouse_url, tmp_path, monkeypatch):
    from customer_health.scoring.pipeline import build_and_score  # noqa: PLC0415
    from tests.helpers import accounts, include_with  # noqa: PLC0415

    include_with(tmp_path, monkeypatch, scorecards=SCORECARD, kpis_declarations=KPIS_YAML)

    day = date(2026, 11, 21)
    load_rows(warehouse_url, "crm_accounts", accounts("a1", "a2"))
    load_rows(warehouse_url, "crm_contracts", [
        {"contract_id": "k1", "account_id": "a1", "start_date": "2025-01-01", "end_date": "2026-01-01",
         "arr": "1000", "status": "renewed"},
        {"contract_id": "k2", "account_id": "a1", "start_date": "2026-01-01", "end_date": "2027-01-01",
         "arr": "1200", "status": "active"},
        {"contract_id": "k3", "account_id": "a2", "start_date": "2026-06-01", "end_date": "2027-06-01",
         "arr": "900", "status": "active"}])
    load_rows(warehouse_url, "usage_events", [
        {"event_id": f"e{n}", "account_id": "a1", "user_id": f"u{n % 2}", "event_name": "login",
         "occurred_at": f"2026-11-{16 + n:02d}T09:00:00Z", "duration_seconds": 60} for n in range(4)])
    build_and_score(day, warehouse_url=warehouse_url)

    components = {(account, kpi): float(raw) if raw is not None else None for account, kpi, raw in warehouse.execute(
        "SELECT account_id, kpi, raw_value FROM marts.health_score_components WHERE day = %s", [day])}
    assert components == {("a1", "renewals_so_far"): 1.0, ("a1", "login_users_7d"): 2.0,
                          ("a2", "renewals_so_far"): 0.0, ("a2", "login_users_7d"): 0.0}
    scores = dict(warehouse.execute("SELECT account_id, score FROM marts.health_scores WHERE day = %s", [day]).fetchall())
    assert scores["a1"] > scores["a2"]


def test_the_evaluation_flags_a_declared_crm_property_before_the_crm_history_starts(
        warehouse, warehouse_url, tmp_path, monkeypatch):
    import shutil  # noqa: PLC0415

    from customer_health.evaluation.evaluate import not_point_in_time  # noqa: PLC0415
    from demo.localenv import REPO_ROOT  # noqa: PLC0415

    include = tmp_path / "include"
    shutil.copytree(REPO_ROOT / "include", include)
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))
    kpis_yml = include / "config" / "kpis.yml"
    kpis_yml.write_text(kpis_yml.read_text(encoding="utf-8") + """
  crm_employees:
    label: Employees (CRM)
    description: Employees as the CRM said that day.
    crm: {property: employees}
""", encoding="utf-8")
    first = TODAY - 60 * DAY
    load_rows(warehouse_url, "crm_accounts", [crm_account(40, TODAY - 200 * DAY)], complete=True,
              observed_at=datetime.combine(first, datetime.min.time(), timezone.utc))
    flagged = not_point_in_time(warehouse, [first - 30 * DAY, first])
    assert flagged["crm_employees"] == flagged["employees"]
    assert "crm_employees" not in not_point_in_time(warehouse, [first])
