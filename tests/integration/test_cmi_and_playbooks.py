"""CMI arithmetic, quadrants and playbooks -> tasks, against a real warehouse."""
from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from customer_health.config import ConfigError
from customer_health.config.cmi import load_cmi
from customer_health.config.playbooks import load_playbooks
from customer_health.playbooks.engine import PlayRenderError, run_playbooks
from customer_health.scoring.maturity import assign_quadrants, score_cmi
from customer_health.scoring.pipeline import build_accounts
from tests.helpers import accounts, load_rows
from tests.integration.test_scoring import kpis

DAY = date(2026, 11, 22)
HV = "health-v1"

CMI_YAML = """
stale_after_days: 180
quadrants: {health_cut: 60, maturity_cut: 3.0}
characteristics:
  strategy:
    label: Strategy
    weight: 3
    factors:
      direction: {questions: {s_what: what, s_how: how_well}}
      ownership: {questions: {s_rel: relation}}
  people:
    label: People
    weight: 1
    factors:
      skills: {questions: {p_what: what}}
"""


def cmi_answers(response_id, account, answers, submitted="2026-10-01T10:00:00Z"):
    return [{"response_id": response_id, "account_id": account, "respondent": "admin@x.jp", "survey": "cmi",
             "question_id": q, "answer": str(a), "submitted_at": submitted} for q, a in answers.items()]


@pytest.fixture
def cmi(tmp_path):
    path = tmp_path / "cmi.yml"
    path.write_text(CMI_YAML, encoding="utf-8")
    return load_cmi(path)


def health(conn, account_id, score, band, day=DAY):
    conn.execute("INSERT INTO meta.scorecard_versions (config_version, source_yaml, rollup_method) VALUES (%s, '', 'mean') ON CONFLICT DO NOTHING", [HV])
    conn.execute(
        "INSERT INTO marts.health_scores (account_id, day, config_version, scorecard, score, band, coverage) VALUES (%s, %s, %s, 'smb', %s, %s, 1)",
        [account_id, day, HV, score, band],
    )


def test_cmi_is_the_weighted_mean_of_characteristics_that_average_their_factors(warehouse, warehouse_url, cmi):
    config, version = cmi
    load_rows(warehouse_url, "crm_accounts", accounts("a1"))
    # strategy: direction = mean(4, 2) = 3, ownership = 5 -> 4; people = 2; CMI = (3*4 + 1*2) / 4 = 3.5
    load_rows(warehouse_url, "survey_responses", cmi_answers("r1", "a1", {"s_what": 4, "s_how": 2, "s_rel": 5, "p_what": 2}))
    assert score_cmi(warehouse, config, version) == 1
    row = warehouse.execute("SELECT cmi, cmi_100, characteristics, characteristics_answered FROM marts.cmi_scores").fetchone()
    assert row == (Decimal("3.500"), Decimal("62.5"), {"strategy": 4.0, "people": 2.0}, 2)


def test_quadrants_follow_the_cut_points_and_unknowns_are_not_zero(warehouse, warehouse_url, cmi):
    config, version = cmi
    load_rows(warehouse_url, "crm_accounts", accounts("star", "cow", "keep", "tough", "never", "thin", "old"))
    high, low = {"s_what": 4, "s_how": 4, "s_rel": 4, "p_what": 4}, {"s_what": 2, "s_how": 2, "s_rel": 2, "p_what": 2}
    for account, answers in (("star", high), ("cow", low), ("keep", high), ("tough", low), ("thin", high)):
        load_rows(warehouse_url, "survey_responses", cmi_answers(f"r-{account}", account, answers))
    load_rows(warehouse_url, "survey_responses", cmi_answers("r-old", "old", high, submitted="2026-01-01T00:00:00Z"))
    load_rows(warehouse_url, "survey_responses", cmi_answers("r-future", "tough", high, submitted="2026-11-30T00:00:00Z"))
    score_cmi(warehouse, config, version)
    for account, score, band in (("star", 80, "green"), ("cow", 75, "green"), ("keep", 30, "red"), ("tough", 35, "red"),
                                 ("never", 65, "yellow"), ("thin", None, "insufficient_data"), ("old", 70, "green")):
        health(warehouse, account, score, band)
    assign_quadrants(warehouse, DAY, config, version, HV)
    result = dict(warehouse.execute("SELECT account_id, quadrant FROM marts.account_quadrants").fetchall())
    assert result == {"star": "star", "cow": "cash_cow", "keep": "worth_keeping", "tough": "tough",
                      "never": "unknown_maturity", "thin": "unknown_health", "old": "star"}
    stale = dict(warehouse.execute("SELECT account_id, cmi_stale FROM marts.account_quadrants").fetchall())
    assert stale["old"] is True and stale["star"] is False


PLAYBOOKS = """
defaults: {fallback_queue: cs-queue, channels: [crm, slack], cooldown_days: 7, auto_close: true}
plays:
  - name: keep_them
    when: {quadrant: [worth_keeping]}
    task:
      title: "{{ account.name }} の健全度を回復する"
      body: "スコア {{ score.value }}（{{ score.band }}）。理由: {{ reason }}"
      priority: high
      due_in_days: 5
      who: "{{ account.csm_name }}"
      what: 利用計画を合意する
      when: 今週中
      where: 電話
      why: "{{ reason }}"
      how: 下がった指標から話す
  - name: drop
    when: {score_drop: {points: 10, within_days: 7}}
    task: {title: "Drop at {{ account.name }}", body: "{{ reason }}", who: x, what: x, when: x, where: x, why: x, how: x}
  - name: red
    when: {band_changed_to: red}
    task: {title: "Red {{ account.name }}", body: "{{ reason }}", who: x, what: x, when: x, where: x, why: x, how: x}
  - name: logins
    when: {kpi: [{kpi: logins_change_30d_pct, lt: -0.3}]}
    task: {title: "Logins {{ account.name }}", body: "{{ reason }}", who: x, what: x, when: x, where: x, why: x, how: x}
  - name: renewal
    when: {renewal_within_days: 60, band: [red, yellow]}
    task: {title: "Renewal {{ account.name }}", body: "{{ reason }}", who: x, what: x, when: x, where: x, why: x, how: x}
  - name: detractor
    when: {nps_detractor: true}
    task: {title: "NPS {{ account.name }}", body: "{{ reason }}", who: x, what: x, when: x, where: x, why: x, how: x}
  - name: assess
    when: {cmi: missing_or_stale}
    segment: {tenure_days: {gte: 30}}
    task: {title: "Assess {{ account.name }}", body: "{{ reason }}", who: x, what: x, when: x, where: x, why: x, how: x}
"""


@pytest.fixture
def world(warehouse, warehouse_url, cmi, tmp_path):
    """Accounts covering each condition, with KPIs, scores, CMI and quadrants for DAY."""
    config, cmi_version = cmi
    load_rows(warehouse_url, "crm_owners", [{"owner_id": "7", "email": "aiko@example.jp", "name": "田中 愛子"}])
    rows = accounts("keep", "dropper", "reddened", "quiet", "renewing", "detractor", "fine")
    for row in rows:
        row["csm_owner_id"] = "7" if row["account_id"] != "fine" else None
    load_rows(warehouse_url, "crm_accounts", rows)
    build_accounts(DAY, warehouse_url)  # as build_health_scores does: the playbooks read marts.accounts
    high = {"s_what": 4, "s_how": 4, "s_rel": 4, "p_what": 4}
    for account in ("keep", "dropper", "reddened", "quiet", "renewing", "detractor"):
        load_rows(warehouse_url, "survey_responses", cmi_answers(f"r-{account}", account, high))
    score_cmi(warehouse, config, cmi_version)
    facts = {
        "keep": dict(score=30, band="red", kpis={}),
        "dropper": dict(score=62, band="yellow", before=80, kpis={}),
        "reddened": dict(score=35, band="red", yesterday="yellow", kpis={}),
        "quiet": dict(score=70, band="green", kpis={"logins_change_30d_pct": -0.45}),
        "renewing": dict(score=65, band="yellow", kpis={"days_to_renewal": 40}),
        "detractor": dict(score=75, band="green", kpis={"nps_latest": 3}),
        "fine": dict(score=90, band="green", kpis={"tenure_days": 400}),
    }
    for account, f in facts.items():
        kpis(warehouse, account, tenure_days=f["kpis"].pop("tenure_days", 200), **f["kpis"])
        health(warehouse, account, f["score"], f["band"])
        if "before" in f:
            health(warehouse, account, f["before"], "green", day=DAY - timedelta(days=3))
        if "yesterday" in f:
            health(warehouse, account, 40, f["yesterday"], day=DAY - timedelta(days=1))  # a 5-point dip: no score_drop
    assign_quadrants(warehouse, DAY, config, cmi_version, HV)
    path = tmp_path / "playbooks.yml"
    path.write_text(PLAYBOOKS, encoding="utf-8")
    playbooks, version = load_playbooks(path)
    return playbooks, version, cmi_version


def tasks(conn):
    return sorted(conn.execute("SELECT play, account_id FROM marts.csm_tasks WHERE status = 'open'").fetchall())


def test_each_condition_kind_fires_for_its_account_only(warehouse, world):
    playbooks, version, cmi_version = world
    run = run_playbooks(warehouse, DAY, playbooks, version, HV, cmi_version)
    assert tasks(warehouse) == [
        ("assess", "fine"), ("detractor", "detractor"), ("drop", "dropper"), ("keep_them", "keep"),
        ("keep_them", "reddened"), ("logins", "quiet"), ("red", "reddened"), ("renewal", "renewing"),
    ]
    assert sum(run.created.values()) == 8
    reason = warehouse.execute("SELECT reason FROM marts.csm_tasks WHERE play = 'drop'").fetchone()[0]
    assert reason == "score dropped 18 points in 7 days (from 80 to 62)"
    queue = warehouse.execute("SELECT owner_email, queue FROM marts.csm_tasks WHERE play = 'assess'").fetchone()
    assert queue == (None, "cs-queue")


def test_templates_are_utf8_end_to_end(warehouse, world):
    playbooks, version, cmi_version = world
    run_playbooks(warehouse, DAY, playbooks, version, HV, cmi_version)
    title, body, five, owner = warehouse.execute(
        "SELECT title, body, five_w1h, owner_email FROM marts.csm_tasks WHERE play = 'keep_them' AND account_id = 'keep'"
    ).fetchone()
    assert title == "Account keep の健全度を回復する"
    assert body == "スコア 30.0（red）。理由: quadrant worth_keeping"
    assert five["who"] == "田中 愛子" and five["how"] == "下がった指標から話す"
    assert owner == "aiko@example.jp"


def test_a_task_names_the_measures_that_moved_the_score_most(tmp_path, warehouse, world):
    playbooks, version, cmi_version = world
    # dropper: 80 a week ago, 62 now; four measures moved, one did not
    health(warehouse, "dropper", 80, "green", day=DAY - timedelta(days=7))
    for day, contributions in ((DAY - timedelta(days=7), (30, 20, 15, 10, 5)), (DAY, (18, 24, 5, 10, 5))):
        for measure, contribution in zip(("usage", "nps", "logins", "seats", "recency"), contributions, strict=True):
            warehouse.execute(
                "INSERT INTO marts.health_score_components (account_id, day, config_version, scorecard, group_name, "
                "measure, kpi, value, weight, contribution, state) VALUES ('dropper', %s, %s, 'smb', 'g', %s, %s, "
                "%s, 1, %s, 'ok')", [day, HV, measure, measure, contribution, contribution])
    path = tmp_path / "drivers.yml"
    path.write_text(PLAYBOOKS.replace(
        '"Drop at {{ account.name }}", body: "{{ reason }}"',
        '"Drop at {{ account.name }}", body: "{% for d in score.top_drivers %}{{ d.measure }} {{ d.change }};{% endfor %}"'),
        encoding="utf-8")
    drivers_playbooks, drivers_version = load_playbooks(path)
    run_playbooks(warehouse, DAY, drivers_playbooks, drivers_version, HV, cmi_version)
    body = warehouse.execute("SELECT body FROM marts.csm_tasks WHERE play = 'drop' AND account_id = 'dropper'").fetchone()
    # the three largest moves, largest first (ties by name); seats and recency did not move
    assert body == ("usage -12.0;logins -10.0;nps 4.0;",)


def test_reruns_and_concurrent_runs_never_duplicate(warehouse, warehouse_url, world):
    playbooks, version, cmi_version = world
    errors = []

    def run():
        try:
            with psycopg.connect(warehouse_url, autocommit=True) as conn:
                run_playbooks(conn, DAY, playbooks, version, HV, cmi_version)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(tasks(warehouse)) == 8
    again = run_playbooks(warehouse, DAY, playbooks, version, HV, cmi_version)
    assert sum(again.created.values()) == 0
    assert warehouse.execute("SELECT count(*) FROM marts.csm_tasks").fetchone() == (8,)


def test_cooldown_and_auto_close(warehouse, world):
    playbooks, version, cmi_version = world
    run_playbooks(warehouse, DAY, playbooks, version, HV, cmi_version)
    # the CSM completes the detractor task; the account is still a detractor tomorrow: cooldown holds it back
    warehouse.execute("UPDATE marts.csm_tasks SET status = 'completed', closed_at = %s WHERE play = 'detractor'", [f"{DAY} 12:00+00"])
    # tomorrow: "quiet" logs in again (its condition clears), everything else unchanged
    tomorrow = DAY + timedelta(days=1)
    warehouse.execute(
        """INSERT INTO marts.account_daily_kpis SELECT account_id, %s::date AS day, parent_account_id, csm_owner_id, employees,
                  industry, region, lifecycle_stage, tenure_days, logins_7d, logins_30d, active_days_7d, active_days_30d,
                  active_users_7d, active_users_30d, licensed_seats, issued_seats, seat_utilisation, logins_per_seat_30d,
                  features_used_30d, core_actions_30d, core_actions_per_active_user_30d, session_minutes_30d,
                  avg_session_minutes_30d, CASE WHEN account_id = 'quiet' THEN 0.1 ELSE logins_change_30d_pct END,
                  active_users_change_30d_pct, days_since_last_login, milestones_reached, arr, days_to_renewal,
                  contract_status, expansions_12m, nps_latest, nps_latest_at, csat_avg_90d, csm_sentiment_latest,
                  csm_sentiment_at, core_actions_per_employee_30d
           FROM marts.account_daily_kpis WHERE day = %s""",
        [tomorrow, DAY],
    )
    warehouse.execute(
        """INSERT INTO marts.health_scores (account_id, day, config_version, scorecard, score, band, coverage)
           SELECT account_id, %s, config_version, scorecard, score, band, coverage FROM marts.health_scores WHERE day = %s""",
        [tomorrow, DAY],
    )
    warehouse.execute(
        """INSERT INTO marts.account_quadrants SELECT account_id, %s, health_version, cmi_version, health_score, health_band,
                  cmi, cmi_assessed_at, cmi_stale, quadrant FROM marts.account_quadrants WHERE day = %s""",
        [tomorrow, DAY],
    )
    run = run_playbooks(warehouse, tomorrow, playbooks, version, HV, cmi_version)
    assert run.created.get("detractor") == 0, "cooldown: a closed task must not re-fire the next day"
    assert run.auto_closed["logins"] == 1
    status, reason = warehouse.execute(
        "SELECT status, close_reason FROM marts.csm_tasks WHERE play = 'logins'").fetchone()
    assert status == "auto_closed" and reason.startswith("condition cleared")
    history = warehouse.execute(
        """SELECT h.event FROM marts.csm_task_history h JOIN marts.csm_tasks t USING (task_id)
           WHERE t.play = 'logins' ORDER BY h.at""").fetchall()
    assert history == [("created",), ("auto_closed",)]


def test_stale_data_creates_no_tasks(warehouse, world):
    playbooks, version, cmi_version = world
    warehouse.execute("INSERT INTO meta.source_quality (day, stream, stale, reason) VALUES (%s, 'usage_events', true, 'no load')", [DAY])
    run = run_playbooks(warehouse, DAY, playbooks, version, HV, cmi_version)
    assert {"keep_them", "drop", "red", "logins"} <= set(run.suppressed)
    assert {"keep_them", "drop", "red", "logins", "renewal"} <= set(run.suppressed)  # renewal also reads the band
    assert tasks(warehouse) == [("assess", "fine"), ("detractor", "detractor")]


def test_template_errors_name_the_play(tmp_path, warehouse, world):
    broken = tmp_path / "broken.yml"
    broken.write_text(PLAYBOOKS.replace("{{ account.name }} の", "{{ account.nmae }} の"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"plays\[0\] \(keep_them\)\.task\.title: template error: .*nmae"):
        load_playbooks(broken)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # a KPI any account may lack today: fails at validation, not in the 5 a.m. run
        ("{{ kpis.nps_latest + 1 }}",
         "plays[1] (drop).task.body: template fails for an account missing values (any KPI, the score, the CMI or "
         "an account detail may be None on a real day): TypeError: unsupported operand type(s) for +: 'NoneType' "
         "and 'int'; guard the value"),
        # a name that is not in the KPI catalogue: what is allowed is listed
        ("{{ kpis.nps_lastest }}", "'dict object' has no attribute 'nps_lastest'; a template can use account, cmi,"),
        # runaway loops stop after a bounded number of steps (milliseconds), naming the limits
        ("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
         "plays[1] (drop).task.body: template error: more than 10,000 loop iterations and calls; a template may take "
         "at most 10,000 loop iterations and calls, write 20,000 characters and run 1 s"),
        ("{{ 'x' * 10000000 }}", "template error: '*' would make 10,000,000 items"),
        ("{{ reason | center(1000000000) }}", "template error: filter do_center given 1000000000"),
    ],
)
def test_templates_that_would_fail_or_run_away_fail_validation(tmp_path, template, expected):
    path = tmp_path / "playbooks.yml"
    path.write_text(PLAYBOOKS.replace('"Drop at {{ account.name }}", body: "{{ reason }}"',
                                      f'"Drop at {{{{ account.name }}}}", body: "{template}"'), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_playbooks(path)
    assert str(error.value).startswith(f"{path}: ")
    assert expected in str(error.value), str(error.value)


def test_a_value_the_conditions_guarantee_may_be_used_unguarded(tmp_path):
    """The logins play fires only when logins_change_30d_pct is known: arithmetic on it validates."""
    path = tmp_path / "playbooks.yml"
    path.write_text(PLAYBOOKS.replace('"Logins {{ account.name }}", body: "{{ reason }}"',
                                      '"Logins {{ account.name }}", body: "{{ (kpis.logins_change_30d_pct * 100) | round }}"'),
                    encoding="utf-8")
    assert load_playbooks(path)[0].plays[3].name == "logins"


def test_a_template_failing_on_one_accounts_data_skips_only_that_task(tmp_path, warehouse, world, caplog):
    """Valid for every sample, failing on real data (a division by a KPI that is 0 for one account):
    that play's task for that account is not made, everything else is, and the run reports it."""
    _, _, cmi_version = world
    warehouse.execute("UPDATE marts.account_daily_kpis SET logins_7d = CASE account_id WHEN 'keep' THEN 0 ELSE 4 END")
    runtime = tmp_path / "runtime.yml"
    runtime.write_text(PLAYBOOKS.replace(
        'body: "スコア {{ score.value }}（{{ score.band }}）。理由: {{ reason }}"',
        'body: "{% if kpis.logins_7d is not none %}{{ 28 // kpis.logins_7d }} days per login{% endif %}"'),
        encoding="utf-8")
    playbooks, version = load_playbooks(runtime)
    with caplog.at_level("ERROR", logger="customer_health.playbooks.engine"):
        run = run_playbooks(warehouse, DAY, playbooks, version, HV, cmi_version)
    assert run.errors == ["playbooks.yml: play 'keep_them' could not render for account keep: "
                          "ZeroDivisionError: integer division or modulo by zero"]
    assert "play 'keep_them' could not render for account keep" in caplog.text
    assert tasks(warehouse) == [
        ("assess", "fine"), ("detractor", "detractor"), ("drop", "dropper"),
        ("keep_them", "reddened"), ("logins", "quiet"), ("red", "reddened"), ("renewal", "renewing"),
    ]
    body = warehouse.execute("SELECT body FROM marts.csm_tasks WHERE play = 'keep_them'").fetchone()[0]
    assert body == "7 days per login"


def test_accounts_with_insufficient_data_in_the_window_do_not_break_score_drop(warehouse, world):
    playbooks, version, cmi_version = world
    health(warehouse, "fine", None, "insufficient_data", day=DAY - timedelta(days=2))
    run = run_playbooks(warehouse, DAY, playbooks, version, HV, cmi_version)
    assert run.created["drop"] == 1


def test_holdout_is_deterministic_per_play_and_account_and_near_its_share():
    from customer_health.playbooks.engine import in_holdout

    accounts_ = [f"A{i}" for i in range(20000)]
    held = [a for a in accounts_ if in_holdout("keep_them", a, 0.1)]
    assert 0.09 < len(held) / len(accounts_) < 0.11
    assert held == [a for a in accounts_ if in_holdout("keep_them", a, 0.1)]  # the same on every run
    assert held != [a for a in accounts_ if in_holdout("drop", a, 0.1)]  # plays draw independently
    assert not any(in_holdout("keep_them", a, 0.0) for a in accounts_[:1000])


def test_held_out_tasks_are_recorded_but_never_delivered(warehouse, world, tmp_path):
    from customer_health.paths import read_sql
    from customer_health.playbooks.engine import in_holdout

    _, _, cmi_version = world
    path = tmp_path / "holdout.yml"
    path.write_text(PLAYBOOKS.replace("auto_close: true}", "auto_close: true, holdout: 0.5}"), encoding="utf-8")
    playbooks, version = load_playbooks(path)
    run_playbooks(warehouse, DAY, playbooks, version, HV, cmi_version)
    rows = warehouse.execute("SELECT task_id, play, account_id, held_out, channels FROM marts.csm_tasks").fetchall()
    assert len(rows) == 8  # the same tasks fire: held out is not skipped, it is the control group
    for task_id, play, account, held_out, channels in rows:
        assert held_out == in_holdout(play, account, 0.5)
        assert (channels == []) == held_out
    held_ids = {r[0] for r in rows if r[3]}
    assert held_ids and held_ids != {r[0] for r in rows}
    pending = {r[0] for r in warehouse.execute(read_sql("delivery/crm_pending_tasks.sql"), {"limit": None})}
    assert pending and not held_ids & pending  # the CRM push (and every digest: no channel) skips them


def copy_day(conn, source: date, target: date, kpi_updates: str = "") -> None:
    """The marts of ``source`` again for ``target`` (KPIs edited by ``kpi_updates``), as a next scoring run leaves them."""
    for table in ("marts.account_daily_kpis", "marts.health_scores", "marts.account_quadrants"):
        conn.execute(f"CREATE TEMP TABLE copied AS SELECT * FROM {table} WHERE day = %s", [source])  # noqa: S608
        conn.execute("UPDATE copied SET day = %s", [target])
        if table == "marts.account_daily_kpis" and kpi_updates:
            conn.execute(kpi_updates)
        conn.execute(f"INSERT INTO {table} SELECT * FROM copied")  # noqa: S608
        conn.execute("DROP TABLE copied")


def all_tasks(conn):
    return sorted(conn.execute(
        "SELECT play, account_id, day, status, close_reason, title FROM marts.csm_tasks").fetchall())


def test_a_past_days_task_run_writes_nothing_and_today_is_as_if_it_never_ran(warehouse, warehouse_url, world,
                                                                              tmp_path, monkeypatch):
    """The issue's scenario: create_csm_tasks for a past day, then for today. Live tasks come only from the
    latest scored day; the past day is a preview. Today: 'quiet' logs in again, 'fine' became a detractor."""
    from customer_health.playbooks.pipeline import create_tasks, register_playbooks

    _, _, cmi_version = world
    today = DAY + timedelta(days=1)
    copy_day(warehouse, DAY, today, "UPDATE copied SET logins_change_30d_pct = CASE account_id WHEN 'quiet' THEN 0.1 "
                                    "ELSE logins_change_30d_pct END, nps_latest = CASE account_id WHEN 'fine' THEN 2 "
                                    "ELSE nps_latest END")
    for day in (DAY, today):
        warehouse.execute("INSERT INTO meta.scoring_runs (day, scoring_version, cmi_version, days_scored) "
                          "VALUES (%s, %s, %s, 1)", [day, HV, cmi_version])
    include = tmp_path / "include"
    (include / "config").mkdir(parents=True)
    (include / "sql").symlink_to(Path(__file__).resolve().parents[2] / "include" / "sql")
    (include / "config" / "playbooks.yml").write_text(PLAYBOOKS, encoding="utf-8")
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))
    version = register_playbooks(warehouse_url)

    first = create_tasks(warehouse_url=warehouse_url, playbooks_version=version)  # the daily run: today
    assert first.day == today and not first.preview
    today_alone = all_tasks(warehouse)
    assert ("detractor", "fine", today, "open", None, "NPS Account fine") in today_alone
    assert not any(t[:2] == ("logins", "quiet") for t in today_alone)
    history = warehouse.execute("SELECT count(*) FROM marts.csm_task_history").fetchone()

    past = create_tasks(DAY, warehouse_url=warehouse_url, playbooks_version=version)  # an operator's backfill
    assert all_tasks(warehouse) == today_alone
    assert warehouse.execute("SELECT count(*) FROM marts.csm_task_history").fetchone() == history
    assert past.preview and past.day == DAY
    assert "before the latest scored day" in past.note and "nothing written" in past.note
    # what the old day would have done: made a task from old data, closed a valid one of today
    assert ("create", "logins", "quiet") in {(p.action, p.play, p.account_id) for p in past.planned}
    assert ("close", "detractor", "fine") in {(p.action, p.play, p.account_id) for p in past.planned}

    again = create_tasks(warehouse_url=warehouse_url, playbooks_version=version)  # today again
    assert not again.preview and sum(again.created.values()) == sum(again.auto_closed.values()) == 0
    assert all_tasks(warehouse) == today_alone


def test_a_rerun_of_a_past_days_scoring_does_not_make_that_day_the_live_one(warehouse, warehouse_url, world):
    """meta.scoring_runs: a past day rescored later is not 'the latest scored day'."""
    from customer_health.warehouse.config_versions import latest_scoring_run

    _, _, cmi_version = world
    today = DAY + timedelta(days=1)
    for day in (today, DAY):  # today scored first, then a rerun of yesterday
        warehouse.execute("INSERT INTO meta.scoring_runs (day, scoring_version, cmi_version, days_scored) "
                          "VALUES (%s, %s, %s, 1)", [day, HV, cmi_version])
    assert latest_scoring_run(warehouse).day == today
    assert latest_scoring_run(warehouse, DAY).day == DAY
