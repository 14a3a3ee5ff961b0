"""Health scores from hand-made KPI rows: each expected number is worked out in the test."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from psycopg import sql

from customer_health.config.scorecards import load_scorecards
from customer_health.scoring.engine import register_version, score_day

DAY = date(2026, 11, 22)

SCORECARDS = """
bands: {red: 40, green: 70}
min_coverage: 0.5
rollup: {method: arr_weighted}
quality_gate:
  usage_events: {max_age: 2 days}
scorecards:
  - name: big
    segment: {employees: {gte: 1000}, region: {in: [EMEA, JP]}}
    groups:
      usage:
        weight: 3
        measures:
          util: {kpi: seat_utilisation, direction: higher_is_better, method: thresholds, red: 0.2, green: 0.6, weight: 1}
      relationship:
        weight: 1
        measures:
          nps: {kpi: nps_latest, direction: higher_is_better, method: thresholds, red: 6, green: 9, weight: 1, missing: {score: 50}}
  - name: small
    groups:
      usage:
        weight: 1
        measures:
          util: {kpi: seat_utilisation, direction: higher_is_better, method: thresholds, red: 0.2, green: 0.6, weight: 2}
          logins: {kpi: logins_per_seat_30d, direction: higher_is_better, method: percentile, weight: 1}
          expanded: {kpi: expansions_12m, direction: higher_is_better, method: boolean, weight: 1}
          recency: {kpi: days_since_last_login, direction: lower_is_better, method: thresholds, red: 10, green: 2, weight: 1}
"""


@pytest.fixture
def scorecards(tmp_path, warehouse):
    path = tmp_path / "scorecards.yml"
    path.write_text(SCORECARDS, encoding="utf-8")
    config, version = load_scorecards(path)
    register_version(warehouse, config, version, SCORECARDS)
    # the usage feed loaded just now: not stale
    warehouse.execute(
        "INSERT INTO meta.load_batches (batch_id, source, stream, finished_at) VALUES (1, 't', 'usage_events', %s)",
        [f"{DAY + timedelta(days=1)} 03:00+00"],
    )
    return config, version


def kpis(conn, account_id, day=DAY, **values):
    columns = {"account_id": account_id, "day": day, **values}
    conn.execute(
        sql.SQL("INSERT INTO marts.account_daily_kpis ({}) VALUES ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(sql.Placeholder() * len(columns))
        ),
        list(columns.values()),
    )


def scores(conn, version, day=DAY):
    return {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT account_id, scorecard, score, band, coverage FROM marts.health_scores WHERE day = %s AND config_version = %s",
            [day, version],
        )
    }


def components(conn, account_id, day=DAY):
    return {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT measure, value, weight, contribution, state FROM marts.health_score_components WHERE account_id = %s AND day = %s",
            [account_id, day],
        )
    }


def test_first_matching_segment_wins_and_the_catch_all_takes_the_rest(warehouse, scorecards):
    config, version = scorecards
    kpis(warehouse, "big-emea", employees=5000, region="EMEA", seat_utilisation=0.4, nps_latest=9)
    kpis(warehouse, "big-us", employees=5000, region="NA", seat_utilisation=0.4)
    kpis(warehouse, "tiny", employees=10, region="JP", seat_utilisation=0.4)
    score_day(warehouse, DAY, config, version)
    assert {a: s[0] for a, s in scores(warehouse, version).items()} == {"big-emea": "big", "big-us": "small", "tiny": "small"}


def test_thresholds_are_linear_between_cut_points_and_groups_weigh_in(warehouse, scorecards):
    config, version = scorecards
    # util 0.5 -> (0.5-0.2)/(0.6-0.2) = 75; nps 7 -> (7-6)/(9-6) = 33.33; score = 3/4*75 + 1/4*33.33 = 64.58
    kpis(warehouse, "a", employees=5000, region="JP", seat_utilisation=0.5, nps_latest=7)
    # util 0.9 clamps to 100; nps missing scores the fixed 50 -> 3/4*100 + 1/4*50 = 87.5; coverage 0.75
    kpis(warehouse, "b", employees=5000, region="JP", seat_utilisation=0.9)
    score_day(warehouse, DAY, config, version)
    result = scores(warehouse, version)
    assert result["a"][1:] == (Decimal("64.58"), "yellow", Decimal("1.000"))
    assert result["b"][1:] == (Decimal("87.50"), "green", Decimal("0.750"))
    assert components(warehouse, "b")["nps"][0] == Decimal("50") and components(warehouse, "b")["nps"][3] == "missing_scored"


def test_percentile_boolean_lower_is_better_and_skipped_weight_spreads(warehouse, scorecards):
    config, version = scorecards
    # logins_per_seat ranks: 1 -> (0+0.5)/3 = 16.67, 5 -> 50, 9 -> 83.33
    kpis(warehouse, "low", seat_utilisation=0.2, logins_per_seat_30d=1, expansions_12m=0, days_since_last_login=10)
    kpis(warehouse, "mid", seat_utilisation=0.4, logins_per_seat_30d=5, expansions_12m=2, days_since_last_login=6)
    kpis(warehouse, "high", seat_utilisation=0.6, logins_per_seat_30d=9, expansions_12m=1)  # never logged in: recency skipped
    score_day(warehouse, DAY, config, version)
    low, mid, high = (components(warehouse, a) for a in ("low", "mid", "high"))
    assert [low[m][0] for m in ("util", "logins", "expanded", "recency")] == [0, Decimal("16.67"), 0, 0]
    assert [mid[m][0] for m in ("util", "logins", "expanded", "recency")] == [50, 50, 100, 50]
    # mid: weights 2,1,1,1 of 5 -> (2*50 + 50 + 100 + 50)/5 = 60
    assert scores(warehouse, version)["mid"][1] == Decimal("60.00")
    # high: recency has no value, its weight spreads: (2*100 + 83.33 + 100)/4 = 95.83, coverage 4/5
    assert high["recency"][1:] == (0, 0, "missing_skipped")
    assert scores(warehouse, version)["high"][1:] == (Decimal("95.83"), "green", Decimal("0.800"))


def test_contributions_add_up_to_the_score(warehouse, scorecards):
    config, version = scorecards
    for i in range(12):
        kpis(warehouse, f"acc{i}", seat_utilisation=i / 12, logins_per_seat_30d=i % 5, expansions_12m=i % 2,
             days_since_last_login=i)
    score_day(warehouse, DAY, config, version)
    rows = warehouse.execute(
        """SELECT h.account_id, h.score, sum(c.contribution), sum(c.weight)
           FROM marts.health_scores h JOIN marts.health_score_components c USING (account_id, day, config_version)
           GROUP BY 1, 2"""
    ).fetchall()
    assert len(rows) == 12
    for account, score, total, weights in rows:
        assert abs(score - total) <= Decimal("0.005"), account
        assert abs(weights - 1) <= Decimal("0.0001"), account


def test_below_minimum_coverage_is_insufficient_data_not_a_number(warehouse, scorecards):
    config, version = scorecards
    kpis(warehouse, "sparse", seat_utilisation=None, logins_per_seat_30d=3)  # 1 of 5 weight covered
    score_day(warehouse, DAY, config, version)
    assert scores(warehouse, version)["sparse"][1:] == (None, "insufficient_data", Decimal("0.200"))


def test_parents_roll_up_their_children_weighted_by_arr(warehouse, scorecards):
    config, version = scorecards
    kpis(warehouse, "child1", parent_account_id="group", arr=30000, seat_utilisation=0.6, logins_per_seat_30d=1,
         expansions_12m=1, days_since_last_login=2)   # all 100 except logins percentile 25 -> (200+25+100+100)/5 = 85
    kpis(warehouse, "child2", parent_account_id="group", arr=10000, seat_utilisation=0.2, logins_per_seat_30d=2,
         expansions_12m=0, days_since_last_login=10)  # 0, 75, 0, 0 -> 15
    score_day(warehouse, DAY, config, version)
    row = warehouse.execute("SELECT score, band, children, children_scored FROM marts.parent_health_scores").fetchone()
    assert row == (Decimal("67.50"), "yellow", 2, 2)  # (85*30000 + 15*10000) / 40000


def test_changes_are_attributed_to_the_measures_that_moved(warehouse, scorecards):
    config, version = scorecards
    before, after = DAY - timedelta(days=7), DAY
    for day, util in ((before, 0.6), (after, 0.3)):
        kpis(warehouse, "a", day=day, seat_utilisation=util, logins_per_seat_30d=4, expansions_12m=1, days_since_last_login=2)
        score_day(warehouse, day, config, version)
    # util 100 -> 25 with weight 2/5: the score drops 30 points, all of it from util
    (change_7d,) = warehouse.execute("SELECT change_7d FROM marts.health_scores WHERE day = %s", [after]).fetchone()
    assert change_7d == Decimal("-30.00")
    moved = dict(warehouse.execute(
        "SELECT measure, contribution_change FROM marts.health_score_changes WHERE day = %s AND horizon_days = 7", [after]
    ).fetchall())
    # measures whose contribution and raw value stayed put explain nothing: no row
    assert moved == {"util": Decimal("-30.0000")}


def test_a_measure_only_one_of_the_two_days_had_counts_in_full(warehouse, scorecards):
    config, version = scorecards
    before, after = DAY - timedelta(days=7), DAY
    # a week ago the account was small (util weight 2/5 + four measures); now big (util 3/4, nps 1/4)
    kpis(warehouse, "a", day=before, employees=10, region="EMEA", seat_utilisation=0.6, logins_per_seat_30d=4,
         expansions_12m=1, days_since_last_login=2)
    kpis(warehouse, "a", day=after, employees=2000, region="EMEA", seat_utilisation=0.6, nps_latest=9)
    for day in (before, after):
        score_day(warehouse, day, config, version)
    moved = dict(warehouse.execute(
        "SELECT measure, contribution_change FROM marts.health_score_changes "
        "WHERE account_id = 'a' AND day = %s AND horizon_days = 7", [after]).fetchall())
    # before: util 100 x 2/5 = 40, logins (alone: percentile 50) x 1/5 = 10, expanded 20, recency 20 (score 90);
    # after: util 100 x 3/4 = 75, nps 100 x 1/4 = 25 (score 100). Measures of one day only count in full.
    assert moved == {"util": Decimal("35.0000"), "logins": Decimal("-10.0000"), "expanded": Decimal("-20.0000"),
                     "recency": Decimal("-20.0000"), "nps": Decimal("25.0000")}
    (change_7d,) = warehouse.execute("SELECT change_7d FROM marts.health_scores WHERE day = %s", [after]).fetchone()
    assert sum(moved.values()) == change_7d == Decimal("10.00")


def test_a_stale_feed_carries_last_good_values_instead_of_dropping_scores(warehouse, scorecards):
    config, version = scorecards
    yesterday = DAY - timedelta(days=1)
    kpis(warehouse, "a", day=yesterday, seat_utilisation=0.6, logins_per_seat_30d=4, expansions_12m=1, days_since_last_login=2)
    score_day(warehouse, yesterday, config, version)
    # the usage feed stops: today's usage KPIs collapse, and the last load is 3 days old
    warehouse.execute("UPDATE meta.load_batches SET finished_at = %s", [f"{DAY - timedelta(days=2)} 03:00+00"])
    kpis(warehouse, "a", seat_utilisation=0, logins_per_seat_30d=0, expansions_12m=1, days_since_last_login=40)
    result = score_day(warehouse, DAY, config, version)
    assert [s.stream for s in result.stale_streams] == ["usage_events"]
    (yesterday_score,) = warehouse.execute("SELECT score FROM marts.health_scores WHERE day = %s", [yesterday]).fetchone()
    assert scores(warehouse, version)["a"][1] == yesterday_score
    assert {m: c[3] for m, c in components(warehouse, "a").items()} == {
        "util": "stale_carried", "logins": "stale_carried", "recency": "stale_carried", "expanded": "ok",
    }
    (reason,) = warehouse.execute("SELECT reason FROM meta.source_quality WHERE day = %s", [DAY]).fetchone()
    assert reason.startswith("no load since")



def test_a_stale_feed_carries_the_value_from_before_a_day_it_was_missing(warehouse, scorecards):
    """The last good value may lie further back than yesterday: the search walks back past a day the
    measure had no value (and past a day nobody scored) to the newest good one."""
    config, version = scorecards
    three_before, yesterday = DAY - timedelta(days=3), DAY - timedelta(days=1)
    kpis(warehouse, "a", day=three_before, seat_utilisation=0.6, logins_per_seat_30d=4, expansions_12m=1,
         days_since_last_login=2)
    score_day(warehouse, three_before, config, version)
    kpis(warehouse, "a", day=yesterday, seat_utilisation=None, logins_per_seat_30d=4, expansions_12m=1,
         days_since_last_login=2)
    score_day(warehouse, yesterday, config, version)
    assert components(warehouse, "a", yesterday)["util"][3].startswith("missing")
    warehouse.execute("UPDATE meta.load_batches SET finished_at = %s", [f"{DAY - timedelta(days=2)} 03:00+00"])
    kpis(warehouse, "a", seat_utilisation=0, logins_per_seat_30d=0, expansions_12m=1, days_since_last_login=40)
    score_day(warehouse, DAY, config, version)
    carried = components(warehouse, "a")
    assert carried["util"][3] == "stale_carried"
    assert carried["util"][:2] == components(warehouse, "a", three_before)["util"][:2]
    assert carried["logins"][3] == "stale_carried"


def test_rescoring_a_day_is_idempotent_and_a_new_version_never_rewrites_the_old(warehouse, scorecards, tmp_path):
    config, version = scorecards
    kpis(warehouse, "a", seat_utilisation=0.5, logins_per_seat_30d=4, expansions_12m=1, days_since_last_login=2)
    score_day(warehouse, DAY, config, version)
    first = warehouse.execute("SELECT * FROM marts.health_score_components ORDER BY measure").fetchall()
    score_day(warehouse, DAY, config, version)
    assert warehouse.execute("SELECT * FROM marts.health_score_components ORDER BY measure").fetchall() == first

    changed = tmp_path / "v2.yml"
    changed.write_text(SCORECARDS.replace("red: 0.2, green: 0.6, weight: 2", "red: 0.4, green: 0.8, weight: 2"), encoding="utf-8")
    config2, version2 = load_scorecards(changed)
    assert version2 != version
    register_version(warehouse, config2, version2, changed.read_text())
    score_day(warehouse, DAY, config2, version2)
    # v1: util 75, lone-account percentile 50, expanded 100, recency 100 -> (2*75 + 50 + 100 + 100)/5, kept as it was
    assert scores(warehouse, version)["a"][1] == Decimal("80.00")
    # v2: util (0.5-0.4)/(0.8-0.4) = 25 -> (2*25 + 50 + 100 + 100)/5
    assert scores(warehouse, version2)["a"][1] == Decimal("60.00")


pytestmark = pytest.mark.usefixtures("warehouse")


def test_the_volume_gate_compares_with_the_same_weekday(warehouse, warehouse_url, tmp_path):
    from customer_health.config.scorecards import GateRule
    from customer_health.kpis import build_kpis, rebuild_kpis
    from customer_health.scoring.quality_gate import run_quality_gate
    from tests.helpers import accounts, load_rows

    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    saturday = date(2026, 11, 21)
    events = []
    for weeks_back in range(1, 5):  # quiet Saturdays (30 events) among busy weekdays (300)
        for offset in range(7):
            day = saturday - timedelta(days=7 * weeks_back - offset)
            events += [{"event_id": f"{day}-{i}", "account_id": "a1", "event_name": "login",
                        "occurred_at": f"{day}T10:00:00Z"} for i in range(30 if day.weekday() == 5 else 300)]
    events += [{"event_id": f"{saturday}-{i}", "account_id": "a1", "event_name": "login",
                "occurred_at": f"{saturday}T10:00:00Z"} for i in range(28)]
    load_rows(warehouse_url, "usage_events", events)
    # The gate counts from the per-day rollups the KPI build writes before it, never from the events.
    rebuild_kpis(warehouse, saturday - timedelta(days=28), saturday)
    rule = {"usage_events": GateRule(min_volume_ratio=0.5)}
    assert run_quality_gate(warehouse, saturday, rule, {"usage_events"}) == [], "a quiet Saturday is normal"
    warehouse.execute("DELETE FROM staging.usage_events WHERE occurred_at::date = %s AND event_id NOT LIKE %s",
                      [saturday, f"{saturday}-1_"])
    build_kpis(warehouse, saturday)
    (stale,) = run_quality_gate(warehouse, saturday, rule, {"usage_events"})
    assert stale.rows_on_day == 10 and stale.reason.startswith("10 rows on 2026-11-21, under 50% of the average 30")


def test_freshness_is_judged_by_the_datas_own_time_as_well_as_by_the_load(warehouse, warehouse_url):
    """A load that ran just now but brings nothing newer than 23 months ago is not fresh (issue 15, class 12)."""
    from customer_health.config.scorecards import GateRule
    from customer_health.scoring.quality_gate import run_quality_gate
    from tests.helpers import accounts, load_rows

    last_event = DAY - timedelta(days=700)
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    load_rows(warehouse_url, "usage_events", [
        {"event_id": "e1", "account_id": "a1", "event_name": "login", "occurred_at": f"{last_event}T10:00:00Z"}])
    warehouse.execute("UPDATE meta.load_batches SET finished_at = %s", [f"{DAY} 23:00+00"])  # loaded on the day
    rule = {"usage_events": GateRule(max_age=timedelta(days=2))}
    (stale,) = run_quality_gate(warehouse, DAY, rule, {"usage_events"})
    assert stale.reason == (f"newest usage_events row is from {last_event} 10:00 UTC, 700 days before the end "
                            f"of {DAY} (allowed age 2 days, 0:00:00)")
    # The day the event happened, the same feed is fresh by both clocks.
    assert run_quality_gate(warehouse, last_event, rule, {"usage_events"}) == []
    (recorded,) = warehouse.execute(
        "SELECT last_data_at::date, last_loaded_at::date FROM meta.source_quality WHERE day = %s", [last_event]).fetchall()
    assert recorded == (last_event, DAY)


def test_a_stream_no_source_feeds_is_absent_not_stale(warehouse, scorecards, tmp_path):
    """No survey source in sources.yml: the survey gate records it absent, and nothing is carried (class 12)."""
    from customer_health.config.scorecards import GateRule
    from customer_health.scoring.quality_gate import configured_streams, run_quality_gate

    assert "survey_responses" in configured_streams()  # the shipped sources.yml feeds it
    rules = {"survey_responses": GateRule(max_age=timedelta(days=3))}
    (stale,) = run_quality_gate(warehouse, DAY, rules, {"survey_responses"})  # fed, never loaded
    assert stale.reason == "never loaded"
    assert run_quality_gate(warehouse, DAY, rules, {"usage_events", "crm_accounts"}) == []
    assert warehouse.execute("SELECT stale, reason FROM meta.source_quality WHERE day = %s", [DAY]).fetchone() == (
        False, "absent: no source in sources.yml feeds survey_responses; its measures are missing, not stale")

    config, version = scorecards
    gated = config.model_copy(update={"quality_gate": {**config.quality_gate, **rules}})
    kpis(warehouse, "a", employees=2000, region="EMEA", seat_utilisation=0.6)  # no NPS: scored 50 as configured
    result = score_day(warehouse, DAY, gated, version, configured={"usage_events"})
    assert result.stale_streams == []
    assert components(warehouse, "a")["nps"][3] == "missing_scored"


def test_a_churned_account_is_not_scored_after_its_churn_date(warehouse, scorecards):
    config, version = scorecards
    for account in ("gone", "staying", "leaving_today"):
        kpis(warehouse, account, employees=10, seat_utilisation=0.4)
    for account, churned_on in (("gone", DAY - timedelta(days=3)), ("leaving_today", DAY)):
        warehouse.execute(
            """INSERT INTO marts.account_outcomes (account_id, outcome, outcome_date, known_on, evidence)
               VALUES (%s, 'churned', %s, %s, 'test')""", [account, churned_on, churned_on])
    score_day(warehouse, DAY, config, version)
    assert set(scores(warehouse, version)) == {"staying", "leaving_today"}  # its last day is still a customer's


def test_scoring_a_range_in_passes_gives_the_rows_of_scoring_day_by_day(warehouse, scorecards):
    """score_days (many days per statement, as the backtest re-scores) == score_day in order, table by table,
    across a stale day (carried from the days before it) and the 1 / 7 / 30-day changes."""
    from customer_health.scoring.engine import score_days

    config, version = scorecards
    first = DAY - timedelta(days=39)
    days = [first + timedelta(days=n) for n in range(40)]
    for n, day in enumerate(days):
        for i, account in enumerate(("a", "b", "c", "d")):
            kpis(warehouse, account, day=day, employees=2000 if i == 0 else 10, region="EMEA", parent_account_id="p",
                 arr=1000 * (i + 1), seat_utilisation=round(0.1 + ((n * (i + 3)) % 9) / 10, 2),
                 logins_per_seat_30d=(n * (i + 1)) % 7, expansions_12m=n % 2,
                 days_since_last_login=(n + i) % 12, nps_latest=None if (n + i) % 5 == 0 else (n + i) % 11)
    stale_day = days[25]
    warehouse.execute(
        "INSERT INTO meta.load_batches (batch_id, source, stream, finished_at) VALUES (2, 't', 'usage_events', %s)",
        [f"{first} 03:00+00"])
    warehouse.execute("UPDATE meta.load_batches SET finished_at = %s WHERE batch_id = 1", [f"{stale_day - timedelta(days=5)} 03:00+00"])
    tables = {  # every column but when it was computed
        "marts.health_scores": "account_id, day",
        "marts.health_score_components": "account_id, day, measure",
        "marts.health_score_changes": "account_id, day, horizon_days, measure",
        "marts.parent_health_scores": "parent_account_id, day",
    }

    def snapshot():
        return {t: [r[:-1] if t == "marts.health_scores" else r
                    for r in warehouse.execute(f"SELECT * FROM {t} ORDER BY {key}").fetchall()]
                for t, key in tables.items()}

    def gate_day_by_day_loads(day):
        # the usage feed loads every day except around stale_day (its last load 5 days before)
        finished = day - timedelta(days=5) if day == stale_day else day + timedelta(days=1)
        warehouse.execute("UPDATE meta.load_batches SET finished_at = %s WHERE batch_id = 1", [f"{finished} 03:00+00"])

    # day by day, in order
    stale = []
    for day in days:
        gate_day_by_day_loads(day)
        stale += [day for s in score_day(warehouse, day, config, version, {"usage_events"}).stale_streams]
    assert stale == [stale_day]
    one_by_one = snapshot()
    states = {r[0] for r in warehouse.execute(
        "SELECT state FROM marts.health_score_components WHERE day = %s", [stale_day])}
    assert "stale_carried" in states
    assert warehouse.execute("SELECT count(*) FROM marts.health_scores WHERE change_30d IS NOT NULL").fetchone()[0] > 0
    for t in tables:
        if t != "marts.health_score_changes":  # a view of the components (V095)
            warehouse.execute(f"DELETE FROM {t}")
    assert warehouse.execute("SELECT count(*) FROM marts.health_score_changes").fetchone()[0] == 0

    # the same days in passes: the gate sees the same loads per day as above
    from customer_health.scoring import engine

    verdicts_by_day = {}
    real_judge = engine.judge_streams

    def judge(conn, day, rules, configured):
        gate_day_by_day_loads(day)
        verdicts_by_day[day] = real_judge(conn, day, rules, configured)
        return verdicts_by_day[day]

    engine.judge_streams = judge
    try:
        results = score_days(warehouse, days[0], days[-1], config, version, {"usage_events"}, days_per_pass=7)
    finally:
        engine.judge_streams = real_judge
    assert [r.day for r in results if r.stale_streams] == [stale_day]
    assert snapshot() == one_by_one

    assert one_by_one["marts.health_score_changes"], "the story moves scores: the changes must explain them"
