"""marts.account_daily_kpis from hand-made staging rows: every expected number is worked out here.

The story (UTC days; the windows of a day D are [D-6, D] and [D-29, D], the
30 days before them [D-59, D-30]):

acme, created 2026-01-15, 40 employees, a licence for 10 seats, users u1..u4
(u4 joined 03-03 and was deactivated 03-08):

    01-20  u1 login (600 s)                    <- the 30 days before 03-10
    02-01  u1 integration_connected            <- milestone, before the 30 days of 03-10
    03-01  u1 login (300 s), u1 message_sent, u2 login (120 s) at 23:59:59
    03-02  u2 report_export (sent as 03-03 01:00 +09:00)  <- core action and milestone
    03-05  u3 login (60 s), u3 dashboard_view
    03-06  u4 login (30 s)
    03-10  u1 login (240 s), u1 message_sent x2, settings_changed without a user
    04-02  u2 login (100 s)

gone: created 2025-06-01, logged in 2025-12-10, automation_created 2025-12-11,
one contract that ended (churned) on 03-01. beta: created 03-10, nothing else.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from customer_health.config.kpis import KpisFile
from customer_health.kpis import build_kpis, rebuild_kpis
from tests.helpers import forget_kpis, load_rows

CONFIG = KpisFile(
    login_event="login",
    core_actions=["message_sent", "report_export"],
    milestones=["integration_connected", "report_export", "automation_created"],
)
START, END = date(2026, 3, 1), date(2026, 4, 15)

ACCOUNTS = [
    {"account_id": "acme", "name": "Acme", "csm_owner_id": "o1", "employees": "40", "industry": "software",
     "region": "EMEA", "lifecycle_stage": "customer", "created_at": "2026-01-15T09:00:00Z"},
    {"account_id": "beta", "name": "Beta", "region": "JP", "lifecycle_stage": "onboarding",
     "created_at": "2026-03-10T08:00:00Z"},
    {"account_id": "gone", "name": "Gone", "parent_account_id": "acme", "employees": "200",
     "lifecycle_stage": "customer", "created_at": "2025-06-01T00:00:00Z"},
]
USERS = [
    {"user_id": "u1", "account_id": "acme", "created_at": "2026-01-15T09:00:00Z", "role": "owner"},
    {"user_id": "u2", "account_id": "acme", "created_at": "2026-01-20T09:00:00Z", "role": "member"},
    {"user_id": "u3", "account_id": "acme", "created_at": "2026-02-25T09:00:00Z", "role": "member"},
    {"user_id": "u4", "account_id": "acme", "created_at": "2026-03-03T09:00:00Z",
     "deactivated_at": "2026-03-08T10:00:00Z", "role": "member"},
]


def event(event_id, account, user, name, at, duration=None):
    return {"event_id": event_id, "account_id": account, "user_id": user, "event_name": name,
            "occurred_at": at, "duration_seconds": duration}


EVENTS = [
    event("e01", "acme", "u1", "login", "2026-01-20T09:00:00Z", 600),
    event("e02", "acme", "u1", "integration_connected", "2026-02-01T10:00:00Z"),
    event("e03", "acme", "u1", "login", "2026-03-01T09:00:00Z", 300),
    event("e04", "acme", "u1", "message_sent", "2026-03-01T09:05:00Z", 2),
    event("e05", "acme", "u2", "login", "2026-03-01T23:59:59Z", 120),
    event("e06", "acme", "u2", "report_export", "2026-03-03T01:00:00+09:00", 5),
    event("e07", "acme", "u3", "login", "2026-03-05T12:00:00Z", 60),
    event("e08", "acme", "u3", "dashboard_view", "2026-03-05T12:01:00Z"),
    event("e13", "acme", "u4", "login", "2026-03-06T10:00:00Z", 30),
    event("e09", "acme", "u1", "login", "2026-03-10T08:00:00Z", 240),
    event("e10", "acme", "u1", "message_sent", "2026-03-10T08:01:00Z"),
    event("e11", "acme", "u1", "message_sent", "2026-03-10T08:02:00Z"),
    event("e12", "acme", None, "settings_changed", "2026-03-10T09:00:00Z"),
    event("e14", "acme", "u2", "login", "2026-04-02T10:00:00Z", 100),
    event("g01", "gone", "g1", "login", "2025-12-10T10:00:00Z", 50),
    event("g02", "gone", "g1", "automation_created", "2025-12-11T10:00:00Z"),
]
CONTRACTS = [
    {"contract_id": "c1", "account_id": "acme", "start_date": "2025-03-15", "end_date": "2026-03-15",
     "arr": "12000", "status": "renewed"},
    {"contract_id": "c2", "account_id": "acme", "start_date": "2026-03-15", "end_date": "2027-03-15",
     "arr": "15000", "status": "active"},
    {"contract_id": "g1", "account_id": "gone", "start_date": "2025-06-01", "end_date": "2026-03-01",
     "arr": "5000", "status": "churned"},
]
EXPANSIONS = [
    {"expansion_id": "x1", "account_id": "acme", "kind": "upsell", "closed_at": "2025-03-20", "arr_delta": "1000"},
    {"expansion_id": "x2", "account_id": "acme", "kind": "cross_sell", "closed_at": "2026-03-12", "arr_delta": "800"},
]


def answer(response_id, survey, value, at, account="acme"):
    return {"response_id": response_id, "account_id": account, "respondent": "x@example.com", "survey": survey,
            "question_id": survey, "answer": value, "submitted_at": at}


SURVEYS = [
    answer("r1", "nps", "6", "2026-02-20T10:00:00Z"),
    answer("r2", "nps", "9", "2026-03-10T18:00:00Z"),
    answer("r3", "nps", "3", "2026-03-10T20:00:00Z"),
    answer("r4", "nps", "10", "2026-03-12T10:00:00Z"),
    answer("s1", "csat", "4", "2025-12-01T10:00:00Z"),
    answer("s2", "csat", "5", "2026-01-15T10:00:00Z"),
    answer("s3", "csat", "2", "2026-03-05T10:00:00Z"),
]
SENTIMENT = [
    {"entry_id": "m1", "account_id": "acme", "csm_owner_id": "o1", "sentiment": "2", "note": "unsure about ROI",
     "recorded_at": "2026-02-01T10:00:00Z"},
    {"entry_id": "m2", "account_id": "acme", "csm_owner_id": "o1", "sentiment": "3", "note": "sponsor happy",
     "recorded_at": "2026-03-11T10:00:00Z"},
]


def utc_day(text: str) -> date:
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc).date()


def load_story(url, until: date | None = None):
    """Load the story; with ``until``, only what happened on or before that day (as it was known then)."""

    def upto(rows, key):
        return rows if until is None else [r for r in rows if utc_day(r[key]) <= until]

    load_rows(url, "crm_accounts", upto(ACCOUNTS, "created_at"))
    load_rows(url, "users", upto(USERS, "created_at"))  # u4's deactivation (03-08) is before any `until` used here
    load_rows(url, "licences", [{"account_id": "acme", "seats": "10"}])
    contracts = upto(CONTRACTS, "start_date")
    if until is not None:  # what the CRM said then: the renewal was not recorded yet
        contracts = [{**c, "status": "active"} if c["end_date"] > str(until) else c for c in contracts]
    load_rows(url, "crm_contracts", contracts)
    load_rows(url, "crm_expansions", upto(EXPANSIONS, "closed_at"))
    load_rows(url, "survey_responses", upto(SURVEYS, "submitted_at"))
    load_rows(url, "crm_sentiment", upto(SENTIMENT, "recorded_at"))
    load_rows(url, "usage_events", upto(EVENTS, "occurred_at"))


def kpis(conn, account, day) -> dict:
    cur = conn.execute("SELECT * FROM marts.account_daily_kpis WHERE account_id = %s AND day = %s", [account, day])
    row = cur.fetchone()
    assert row is not None, f"no KPI row for {account} on {day}"
    return dict(zip([c.name for c in cur.description], row, strict=True))


def whole_table(conn, table, order="1, 2, 3"):
    return conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()  # noqa: S608 - constant names


@pytest.fixture
def story(warehouse, warehouse_url):
    load_story(warehouse_url)
    rows = rebuild_kpis(warehouse, START, END, CONFIG)
    assert rows == 46 + 46 + 37  # acme and gone every day, beta from 03-10
    return warehouse


def test_usage_windows_distinct_users_features_and_rates(story):
    k = kpis(story, "acme", date(2026, 3, 10))
    assert (k["logins_7d"], k["logins_30d"]) == (3, 5)              # 03-05, 03-06, 03-10 | + 2 on 03-01
    assert (k["active_days_7d"], k["active_days_30d"]) == (3, 5)    # 03-05, 03-06, 03-10 | + 03-01, 03-02
    assert (k["active_users_7d"], k["active_users_30d"]) == (3, 4)  # u3 u4 u1 | + u2 (the userless event counts for no one)
    assert k["features_used_30d"] == 4      # message_sent, report_export, dashboard_view, settings_changed; not login
    assert k["core_actions_30d"] == 4       # message_sent x3 + report_export
    assert k["core_actions_per_active_user_30d"] == pytest.approx(4 / 4)
    assert k["core_actions_per_employee_30d"] == pytest.approx(4 / 40)
    assert k["session_minutes_30d"] == pytest.approx((300 + 120 + 60 + 30 + 240) / 60)
    assert k["avg_session_minutes_30d"] == pytest.approx(750 / 60 / 5)
    assert (k["licensed_seats"], k["issued_seats"]) == (10, 3)      # u4 deactivated on 03-08
    assert k["seat_utilisation"] == pytest.approx(4 / 10)
    assert k["logins_per_seat_30d"] == pytest.approx(5 / 10)
    assert k["logins_change_30d_pct"] == pytest.approx(5 / 1 - 1)   # 01-20 was the only login in [01-10, 02-08]
    assert k["active_users_change_30d_pct"] == pytest.approx(4 / 1 - 1)
    assert k["days_since_last_login"] == 0
    assert k["milestones_reached"] == 2     # integration_connected (02-01, outside the window: ever counts) + report_export
    assert (k["tenure_days"], k["employees"], k["region"], k["csm_owner_id"]) == (54, 40, "EMEA", "o1")


def test_windows_slide_day_by_day(story):
    k = kpis(story, "acme", date(2026, 3, 12))
    assert (k["logins_7d"], k["active_users_7d"], k["days_since_last_login"]) == (2, 2, 2)  # 03-06 u4, 03-10 u1
    k = kpis(story, "acme", date(2026, 3, 20))
    assert (k["logins_7d"], k["active_days_7d"], k["active_users_7d"]) == (0, 0, 0)
    assert (k["active_users_30d"], k["active_days_30d"], k["features_used_30d"]) == (4, 5, 4)
    k = kpis(story, "acme", date(2026, 4, 5))
    assert (k["logins_30d"], k["active_users_30d"], k["active_users_7d"]) == (2, 2, 1)  # 03-10 u1, 04-02 u2
    assert k["logins_change_30d_pct"] == pytest.approx(2 / 4 - 1)        # [02-05, 03-06]: 03-01 x2, 03-05, 03-06
    assert k["active_users_change_30d_pct"] == pytest.approx(2 / 4 - 1)  # u1 u2 u3 u4 then
    assert k["features_used_30d"] == 2                                   # message_sent, settings_changed
    assert k["days_since_last_login"] == 3
    k = kpis(story, "acme", date(2026, 3, 1))  # the day a user's 23:59:59 login still counts
    assert (k["logins_7d"], k["active_users_7d"], k["session_minutes_30d"]) == (2, 2, pytest.approx(7.0))


def test_accounts_without_activity_get_rows_with_zeros_and_nulls(story):
    beta = story.execute("SELECT min(day), max(day), count(*) FROM marts.account_daily_kpis WHERE account_id = 'beta'").fetchone()
    assert beta == (date(2026, 3, 10), END, 37)  # from its creation day on
    k = kpis(story, "beta", date(2026, 3, 20))
    assert (k["logins_30d"], k["active_users_30d"], k["features_used_30d"], k["milestones_reached"]) == (0, 0, 0, 0)
    assert (k["issued_seats"], k["expansions_12m"], k["tenure_days"]) == (0, 0, 10)
    for column in ("licensed_seats", "seat_utilisation", "logins_per_seat_30d", "core_actions_per_active_user_30d",
                   "avg_session_minutes_30d", "logins_change_30d_pct", "active_users_change_30d_pct",
                   "days_since_last_login", "arr", "days_to_renewal", "contract_status", "nps_latest",
                   "csat_avg_90d", "csm_sentiment_latest", "core_actions_per_employee_30d"):
        assert k[column] is None, column
    assert k["session_minutes_30d"] == 0


def test_history_before_the_window_still_counts(story):
    k = kpis(story, "gone", date(2026, 3, 10))
    assert k["days_since_last_login"] == 90      # 2025-12-10
    assert k["milestones_reached"] == 1          # automation_created on 2025-12-11
    assert (k["logins_30d"], k["active_users_30d"], k["logins_change_30d_pct"]) == (0, 0, None)
    assert k["parent_account_id"] == "acme"


def test_contract_arr_renewal_and_status_as_known_that_day(story):
    k = kpis(story, "acme", date(2026, 3, 10))
    # c1 covers; its "renewed" was only known at its end, so the day shows active
    assert (k["arr"], k["days_to_renewal"], k["contract_status"]) == (12000, 5, "active")
    k = kpis(story, "acme", date(2026, 3, 15))  # renewal day: c2 starts, c1 (end 03-15 >= day) is the nearest end
    assert (k["arr"], k["days_to_renewal"], k["contract_status"]) == (15000, 0, "active")
    k = kpis(story, "acme", date(2026, 3, 16))
    assert (k["arr"], k["days_to_renewal"]) == (15000, 364)
    build_kpis(story, date(2026, 2, 28), CONFIG)  # before the fixture's range
    k = kpis(story, "gone", date(2026, 2, 28))
    assert (k["arr"], k["days_to_renewal"], k["contract_status"]) == (5000, 1, "active")
    k = kpis(story, "gone", date(2026, 3, 1))
    assert (k["arr"], k["days_to_renewal"], k["contract_status"]) == (0, 0, "churned")
    k = kpis(story, "gone", date(2026, 3, 2))
    assert (k["arr"], k["days_to_renewal"], k["contract_status"]) == (0, None, "churned")


def test_a_status_loaded_before_the_term_end_shows_from_the_load_day(story):
    # The CRM row saying "churned" arrived on 2026-02-25: from then on it was known.
    story.execute("UPDATE history.crm_contracts SET loaded_at = '2026-02-25T06:00:00Z' WHERE contract_id = 'g1'")
    rebuild_kpis(story, date(2026, 2, 24), date(2026, 2, 26), CONFIG)
    assert kpis(story, "gone", date(2026, 2, 24))["contract_status"] == "active"
    assert kpis(story, "gone", date(2026, 2, 25))["contract_status"] == "churned"
    assert kpis(story, "gone", date(2026, 2, 25))["arr"] == 5000  # still covering: only the status is news


def test_expansions_surveys_and_sentiment_as_of_each_day(story):
    assert kpis(story, "acme", date(2026, 3, 10))["expansions_12m"] == 1   # x1 (2025-03-20) still within 365 days
    assert kpis(story, "acme", date(2026, 3, 12))["expansions_12m"] == 2   # + x2 that day
    assert kpis(story, "acme", date(2026, 3, 20))["expansions_12m"] == 1   # x1 left after 2026-03-19

    k = kpis(story, "acme", date(2026, 3, 9))
    assert (k["nps_latest"], k["nps_latest_at"]) == (6, datetime(2026, 2, 20, 10, tzinfo=timezone.utc))
    k = kpis(story, "acme", date(2026, 3, 10))  # two answers that day: the later one (3) wins
    assert (k["nps_latest"], k["nps_latest_at"]) == (3, datetime(2026, 3, 10, 20, tzinfo=timezone.utc))
    assert kpis(story, "acme", date(2026, 3, 12))["nps_latest"] == 10

    assert kpis(story, "acme", date(2026, 3, 10))["csat_avg_90d"] == pytest.approx((5 + 2) / 2)  # s1 is older than 90 days
    assert kpis(story, "acme", date(2026, 4, 14))["csat_avg_90d"] == pytest.approx(3.5)          # 01-15 is day 1 of 90
    assert kpis(story, "acme", date(2026, 4, 15))["csat_avg_90d"] == pytest.approx(2.0)          # and now it left

    k = kpis(story, "acme", date(2026, 3, 10))
    assert (k["csm_sentiment_latest"], k["csm_sentiment_at"]) == (2, datetime(2026, 2, 1, 10, tzinfo=timezone.utc))
    assert kpis(story, "acme", date(2026, 3, 11))["csm_sentiment_latest"] == 3


def test_no_future_data_leaks_into_a_past_day(warehouse, warehouse_url):
    day = date(2026, 3, 10)
    load_story(warehouse_url, until=day)        # the warehouse as it was at the end of 03-10
    rebuild_kpis(warehouse, day, day, CONFIG)
    then = kpis(warehouse, "acme", day)
    load_story(warehouse_url)                   # everything after: events, answers, the renewal, c2, x2
    rebuild_kpis(warehouse, START, END, CONFIG)
    assert kpis(warehouse, "acme", day) == then
    assert then["nps_latest"] == 3 and then["contract_status"] == "active" and then["expansions_12m"] == 1


def test_rerunning_a_day_or_a_rebuild_changes_nothing(story):
    before = whole_table(story, "marts.account_daily_kpis")
    rollups = whole_table(story, "intermediate.account_day_activity")
    build_kpis(story, date(2026, 3, 10), CONFIG)
    build_kpis(story, date(2026, 3, 10), CONFIG)
    rebuild_kpis(story, START, END, CONFIG)
    assert whole_table(story, "marts.account_daily_kpis") == before
    assert whole_table(story, "intermediate.account_day_activity") == rollups


def test_a_late_event_rerun_on_its_day_reaches_the_days_long_after_it(story, warehouse_url):
    """The state carried forward (last login, milestones) is rewritten from a rerun day on: a day whose
    60-day window starts after the late event still sees it, as a rebuild does."""
    later = date(2026, 5, 20)  # its windows start on 03-21: the late event is history to it
    build_kpis(story, later, CONFIG)
    before = kpis(story, "acme", later)
    load_rows(warehouse_url, "usage_events", [event("late1", "acme", "u3", "automation_created", "2026-03-04T10:00:00Z")])
    build_kpis(story, date(2026, 3, 4), CONFIG)  # late data: its day is rerun
    build_kpis(story, later, CONFIG)
    after = kpis(story, "acme", later)
    assert (before["milestones_reached"], after["milestones_reached"]) == (2, 3)
    rebuild_kpis(story, later, later, CONFIG)
    assert kpis(story, "acme", later) == after


def test_the_daily_path_and_a_full_recompute_give_identical_tables(warehouse, warehouse_url):
    # Six weeks of activity with gaps, several users per account, late events,
    # users coming and going, a renewal mid-way and a contract updated after its load.
    load_story(warehouse_url)
    extra = []
    for n in range(40):
        day = START + timedelta(days=n)
        if day.weekday() >= 5 or n % 7 == 3:   # weekends and some weekdays are quiet
            continue
        for user in ("u1", "u2", "u3")[: 1 + n % 3]:
            at = datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=8 + n % 9)
            extra.append(event(f"x{n}{user}l", "acme", user, "login", at.isoformat(), 60 + n))
            extra.append(event(f"x{n}{user}a", "acme", user, ("message_sent", "search_performed", "report_export")[n % 3],
                               (at + timedelta(minutes=3)).isoformat(), 1.5))
        if n % 5 == 0:
            extra.append(event(f"x{n}g", "gone", "g2", "login", f"{day}T23:30:00-01:00", 45))  # next UTC day
    load_rows(warehouse_url, "usage_events", extra)
    load_rows(warehouse_url, "crm_contracts", [{**CONTRACTS[1], "arr": "16000"}])  # a later correction of c2

    days = [START + timedelta(days=n) for n in range(40)]
    rebuild_kpis(warehouse, START - timedelta(days=1), START - timedelta(days=1), CONFIG)  # the history before
    for day in days:
        build_kpis(warehouse, day, CONFIG)
    daily_kpis = [r for r in whole_table(warehouse, "marts.account_daily_kpis") if r[1] >= START]
    daily_rollups = ([r for r in whole_table(warehouse, "intermediate.account_day_activity") if r[0] >= START],
                     [r for r in whole_table(warehouse, "intermediate.user_day_activity") if r[0] >= START])
    assert len(daily_kpis) == 40 + 40 + 31
    assert sum(1 for r in daily_rollups[1] if r[2] == "u3") > 5  # the generated activity is there

    forget_kpis(warehouse)
    rebuild_kpis(warehouse, days[0], days[-1], CONFIG)
    assert whole_table(warehouse, "marts.account_daily_kpis") == daily_kpis
    rebuilt_rollups = (whole_table(warehouse, "intermediate.account_day_activity"),
                       whole_table(warehouse, "intermediate.user_day_activity"))
    # the rebuild rolls up every day with events up to its end; compare the days both built
    assert [r for r in rebuilt_rollups[0] if r[0] >= days[0]] == daily_rollups[0]
    assert [r for r in rebuilt_rollups[1] if r[0] >= days[0]] == daily_rollups[1]


def test_a_rebuild_of_a_later_range_gives_the_rows_of_the_whole_rebuild(story):
    """The seats issued when a range starts are counted once per account (u4 joined 03-03 and
    left 03-08: issued on the range's first day, gone inside it); the versions, answers and
    expansions before it are read only as far as they still count: same rows as the whole range."""
    whole = [r for r in whole_table(story, "marts.account_daily_kpis") if date(2026, 3, 5) <= r[1] <= date(2026, 3, 20)]
    rebuild_kpis(story, date(2026, 3, 5), date(2026, 3, 20), CONFIG)
    assert [r for r in whole_table(story, "marts.account_daily_kpis")
            if date(2026, 3, 5) <= r[1] <= date(2026, 3, 20)] == whole
    assert kpis(story, "acme", date(2026, 3, 5))["issued_seats"] == 4
    assert kpis(story, "acme", date(2026, 3, 8))["issued_seats"] == 3
    build_kpis(story, date(2026, 3, 6), CONFIG)  # one day: everything before it folded into one count
    assert [r for r in whole_table(story, "marts.account_daily_kpis")
            if date(2026, 3, 5) <= r[1] <= date(2026, 3, 20)] == whole


def analyse_counts(conn) -> dict[str, int]:
    return dict(conn.execute(
        "SELECT relname, analyze_count FROM pg_stat_user_tables "
        "WHERE schemaname = 'intermediate' AND relname IN ('account_day_activity', 'user_day_activity')").fetchall())


def test_the_daily_build_analyses_the_rollups_only_when_they_changed_a_lot(story):
    """The story's rebuild analysed its rollups; a day that rewrites a few rows of many leaves the
    statistics as they are, and after many changes the next build refreshes them."""
    # 100 old days x 30 accounts that are not in the CRM (no KPI rows of their own)
    story.execute("INSERT INTO intermediate.account_day_activity SELECT '2025-01-01'::date + k, 'filler' || n, "
                  "1, 0, 0, 0, 1, 1 FROM generate_series(0, 99) AS k, generate_series(1, 30) AS n")
    story.execute("INSERT INTO intermediate.user_day_activity SELECT '2025-01-01'::date + k, 'filler' || n, 'f', 1 "
                  "FROM generate_series(0, 99) AS k, generate_series(1, 30) AS n")
    # The session's counts of rows written reach the shared statistics when it is idle after this call,
    # so the ANALYZE below resets them, and the builds read them (not a flush a second later).
    story.execute("SELECT pg_stat_force_next_flush()")
    story.execute("ANALYZE intermediate.account_day_activity, intermediate.user_day_activity")
    fresh = analyse_counts(story)
    before = kpis(story, "acme", date(2026, 3, 10))

    build_kpis(story, date(2026, 3, 10), CONFIG)  # a few rows of 3,000 rewritten
    assert analyse_counts(story) == fresh
    assert kpis(story, "acme", date(2026, 3, 10)) == before

    story.execute("DELETE FROM intermediate.account_day_activity WHERE account_id LIKE 'filler%'")
    story.execute("DELETE FROM intermediate.user_day_activity WHERE account_id LIKE 'filler%'")
    story.execute("SELECT pg_stat_force_next_flush()")
    build_kpis(story, date(2026, 3, 10), CONFIG)
    assert {name: count - fresh[name] for name, count in analyse_counts(story).items()} == {
        "account_day_activity": 1, "user_day_activity": 1}
    assert kpis(story, "acme", date(2026, 3, 10)) == before


def mart_analyse_count(conn) -> int:
    return conn.execute("SELECT analyze_count FROM pg_stat_user_tables "
                        "WHERE schemaname = 'marts' AND relname = 'account_daily_kpis'").fetchone()[0]


def day_in_statistics(conn, day: date) -> bool:
    """The day is one of the mart's most common days or a bound of its histogram (its last day is)."""
    return conn.execute(
        "SELECT %s::text = ANY (coalesce(most_common_vals::text::text[], '{}') || "
        "                       coalesce(histogram_bounds::text::text[], '{}')) "
        "FROM pg_stats WHERE schemaname = 'marts' AND tablename = 'account_daily_kpis' AND attname = 'day'",
        [day]).fetchone()[0]


def test_the_daily_build_samples_its_day_for_the_planner_and_the_whole_mart_after_many_changes(story):
    """The new day is in the statistics the scoring plans with, from a small sample of the day column
    alone: the whole mart is re-analysed only when a tenth of it changed, since the cost of its
    sample grew with history (1-1.5 s a day at 20,000 accounts x 365 days)."""
    new_day = END + timedelta(days=1)
    story.execute("SELECT pg_stat_force_next_flush()")
    story.execute("ANALYZE marts.account_daily_kpis")
    fresh = mart_analyse_count(story)
    assert not day_in_statistics(story, new_day)

    build_kpis(story, new_day, CONFIG)  # 3 rows of 132: the day column only
    assert day_in_statistics(story, new_day)
    assert mart_analyse_count(story) == fresh + 1

    story.execute("DELETE FROM marts.account_daily_kpis WHERE day < %s", [START + timedelta(days=10)])  # 29 rows
    story.execute("SELECT pg_stat_force_next_flush()")
    build_kpis(story, new_day, CONFIG)  # the day column, then the whole table
    assert mart_analyse_count(story) == fresh + 3


@pytest.mark.parametrize("setting", ["enable_nestloop", "enable_hashagg", "enable_hashjoin"])
def test_the_rows_do_not_depend_on_the_plan(story, setting):
    """With statistics on every input and one join or grouping method taken away, the planner picks
    other plans (the one without nested loops once failed: a user's days came out of order)."""
    before = whole_table(story, "marts.account_daily_kpis")
    story.execute("ANALYZE")
    story.execute(f"SET {setting} = off")  # noqa: S608 - a constant from the parameter list
    try:
        rebuild_kpis(story, START, END, CONFIG)
        build_kpis(story, date(2026, 3, 10), CONFIG)
    finally:
        story.execute(f"RESET {setting}")
    assert whole_table(story, "marts.account_daily_kpis") == before


def test_a_first_daily_run_rolls_up_the_days_before_it(warehouse, warehouse_url, caplog):
    load_story(warehouse_url)
    build_kpis(warehouse, date(2026, 3, 10), CONFIG)  # no rollups at all yet
    assert "rollups of 2025-12-10 .. 2026-03-09 are missing" in caplog.text
    first_run = kpis(warehouse, "acme", date(2026, 3, 10))
    rebuild_kpis(warehouse, date(2026, 3, 10), date(2026, 3, 10), CONFIG)
    assert kpis(warehouse, "acme", date(2026, 3, 10)) == first_run
    assert first_run["logins_change_30d_pct"] == pytest.approx(4.0)  # the 01-20 login was rolled up
    caplog.clear()
    build_kpis(warehouse, date(2026, 3, 11), CONFIG)
    assert "missing" not in caplog.text


def test_rollups_and_the_feature_view(story):
    rows = story.execute(
        """SELECT day, events, logins, session_ms, core_actions, active_users
           FROM intermediate.account_day_activity WHERE account_id = 'acme' AND day = '2026-03-10'""").fetchall()
    assert rows == [(date(2026, 3, 10), 4, 1, 240_000, 2, 1)]
    features = story.execute(
        """SELECT event_name FROM intermediate.account_feature_day
           WHERE account_id = 'acme' AND day = '2026-03-02' ORDER BY 1""").fetchall()
    assert features == [("report_export",)]
    users = story.execute(
        "SELECT user_id, events FROM intermediate.user_day_activity WHERE day = '2026-03-01' ORDER BY 1").fetchall()
    assert users == [("u1", 2), ("u2", 1)]


def test_the_shipped_kpi_config_validates_and_typos_are_named(tmp_path):
    from customer_health.config import ConfigError
    from customer_health.config.kpis import load_kpis, kpis_path

    config, version = load_kpis()
    assert config.login_event == "login" and "message_sent" in config.core_actions and len(version) == 12
    broken = tmp_path / "kpis.yml"
    broken.write_text(kpis_path().read_text(encoding="utf-8").replace("core_actions:", "core_action:"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"kpis.yml: core_action: unknown key \(a typo\?\)"):
        load_kpis(broken)
    broken.write_text("milestones: [member_invited, member_invited]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"milestones: Value error, listed twice: member_invited"):
        load_kpis(broken)


def test_a_rebuild_is_settled_after_its_commit_and_never_inside_a_transaction(story):
    """The tables a rebuild rewrote are vacuumed and analysed once, after the commit (the first daily run
    would otherwise set every row's hint bits itself); inside an open transaction the step refuses."""
    from customer_health.kpis import REBUILT_TABLES, settle_rebuilt_tables  # noqa: PLC0415

    rebuild_kpis(story, date(2026, 3, 5), date(2026, 3, 20), CONFIG)
    with story.transaction():
        with pytest.raises(ValueError, match="after the rebuild's commit"):
            settle_rebuilt_tables(story)
    before = {name: row for name, *row in story.execute(
        "SELECT schemaname || '.' || relname, vacuum_count, analyze_count FROM pg_stat_user_tables")}
    settle_rebuilt_tables(story)
    story.execute("SELECT pg_stat_clear_snapshot()")
    after = {name: row for name, *row in story.execute(
        "SELECT schemaname || '.' || relname, vacuum_count, analyze_count FROM pg_stat_user_tables")}
    for table in REBUILT_TABLES:
        assert after[table][0] == before[table][0] + 1, f"{table} vacuumed once"
        assert after[table][1] == before[table][1] + 1, f"{table} analysed once"
    assert story.autocommit, "the connection's own mode is given back"
