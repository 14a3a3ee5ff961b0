"""Custom KPIs declared in kpis.yml, on the hand-made story of test_kpis.py (its loading, reused).

Declared again as custom kinds, the standard logins_30d, days_since_last_login,
session_minutes_30d and logins_change_30d_pct must come out the same on every
row; the daily path must equal a full rebuild, whole table against whole table;
a changed declaration rewrites its own column, a removed one drops it.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from customer_health.config.kpis import KpisFile
from customer_health.kpis import build_kpis, rebuild_kpis
from tests.helpers import forget_kpis
from tests.integration.test_kpis import CONFIG, END, START, load_story

LOGINS = {"events": ["login"]}


def declared(**changes) -> KpisFile:
    kpis = {
        "my_logins_30d": {"label": "Logins", "description": "d", "count": {**LOGINS, "window": 30}},
        "my_days_since_login": {"label": "Days since login", "description": "d", "days_since": LOGINS},
        "my_days_since_first_login": {"label": "First login", "description": "d",
                                      "days_since": {**LOGINS, "which": "first"}},
        "my_session_minutes_30d": {"label": "Minutes", "description": "d",
                                   "sum": {**LOGINS, "window": 30, "scale": "minutes"}},
        "my_logins_change": {"label": "Change", "description": "d", "change": {"of": "my_logins_30d"}},
        "my_logins_per_seat": {"label": "Per seat", "description": "d",
                               "ratio": {"numerator": "my_logins_30d", "denominator": "licensed_seats"}},
        "my_message_days_7d": {"label": "Message days", "description": "d",
                               "distinct": {"of": "days", "events_matching": "message\\_%", "window": 7}},
        "my_messages_30d": {"label": "Messages", "description": "d",
                            "count": {"events_matching": "message%", "window": 30}},
        # the account kinds and distinct users / features (test_account_kpi_kinds.py checks their values)
        "my_days_using": {"label": "Days using", "description": "d", "tenure": {"since": "first_event"}},
        "my_age": {"label": "Age", "description": "d", "tenure": {"since": "crm_created"}},
        "my_renewals": {"label": "Renewals", "description": "d", "contract": {"fact": "renewals_so_far"}},
        "my_term_days": {"label": "Term days", "description": "d", "contract": {"fact": "days_since_contract_start"}},
        "my_nps_age": {"label": "NPS age", "description": "d", "survey": {"survey": "nps", "measure": "age_days"}},
        "my_csat_30d": {"label": "CSAT", "description": "d",
                        "survey": {"survey": "csat", "measure": "average", "window_days": 30}},
        "my_employees": {"label": "Employees", "description": "d", "crm": {"property": "employees"}},
        "my_login_users_7d": {"label": "Login users", "description": "d",
                              "distinct": {"of": "users", "events": ["login"], "window": 7}},
        "my_message_features_30d": {"label": "Message features", "description": "d",
                                    "distinct": {"of": "features", "events_matching": "message%", "window": 30}},
    }
    kpis.update(changes)
    return KpisFile.model_validate({**CONFIG.model_dump(), "kpis": {k: v for k, v in kpis.items() if v}})


DECLARED = declared()
CUSTOM = sorted(DECLARED.custom())


def column_values(conn, columns, since=date.min):
    select = ", ".join(["account_id", "day", *columns])
    return conn.execute(f"SELECT {select} FROM marts.account_daily_kpis WHERE day >= %s ORDER BY 1, 2",  # noqa: S608
                        [since]).fetchall()


@pytest.fixture
def story(warehouse, warehouse_url):
    load_story(warehouse_url)
    rebuild_kpis(warehouse, START, END, DECLARED)
    return warehouse


def test_custom_kinds_equal_the_standard_kpis_they_restate(story):
    rows = story.execute(
        """SELECT account_id, day, logins_30d, my_logins_30d, days_since_last_login, my_days_since_login,
                  session_minutes_30d, my_session_minutes_30d, logins_change_30d_pct, my_logins_change,
                  logins_per_seat_30d, my_logins_per_seat
           FROM marts.account_daily_kpis""").fetchall()
    assert len(rows) == 46 + 46 + 37
    for account, day, *pairs in rows:
        for standard, custom in zip(pairs[::2], pairs[1::2], strict=True):
            assert (standard is None) == (custom is None) and (standard is None or custom == pytest.approx(float(standard))), (
                account, day, pairs)


def test_days_since_first_distinct_days_and_patterns(story):
    k = dict(zip(["first", "message_days", "messages"], story.execute(
        """SELECT my_days_since_first_login, my_message_days_7d, my_messages_30d FROM marts.account_daily_kpis
           WHERE account_id = 'acme' AND day = '2026-03-10'""").fetchone(), strict=True))
    assert k == {"first": 49, "message_days": 1, "messages": 3}  # first login 01-20; message_sent on 03-10 (x2) and 03-01
    assert story.execute("""SELECT my_days_since_first_login, my_messages_30d FROM marts.account_daily_kpis
                            WHERE account_id = 'beta' AND day = '2026-03-20'""").fetchone() == (None, 0)


def test_the_daily_path_equals_a_full_rebuild_on_the_custom_columns(warehouse, warehouse_url):
    load_story(warehouse_url)
    days = [START + timedelta(days=n) for n in range(36)]
    rebuild_kpis(warehouse, START - timedelta(days=1), START - timedelta(days=1), DECLARED)
    for day in days:
        build_kpis(warehouse, day, DECLARED)
    daily = column_values(warehouse, CUSTOM, since=START)
    assert len(daily) == 36 * 2 + 27
    forget_kpis(warehouse)
    rebuild_kpis(warehouse, days[0], days[-1], DECLARED)
    assert column_values(warehouse, CUSTOM) == daily


def test_a_past_day_rebuilt_after_later_days_reads_the_rollups_not_the_state(story):
    before = column_values(story, CUSTOM)
    build_kpis(story, date(2026, 3, 10), DECLARED)  # the state already holds 04-02
    assert column_values(story, CUSTOM) == before


def test_a_changed_declaration_backfills_its_column_and_a_removed_one_is_dropped(story):
    untouched = column_values(story, ["my_days_since_login"])
    changed = declared(my_logins_30d={"label": "Logins", "description": "d", "count": {**LOGINS, "window": 7}},
                       my_message_days_7d=None)
    build_kpis(story, END, changed)  # the daily run: the new definition reaches every day the mart has
    assert column_values(story, ["my_logins_30d"]) == column_values(story, ["logins_7d"])
    assert column_values(story, ["my_days_since_login"]) == untouched
    columns = {c for (c,) in story.execute("""SELECT column_name FROM information_schema.columns
                                              WHERE table_schema = 'marts' AND table_name = 'account_daily_kpis'""")}
    assert "my_message_days_7d" not in columns and "my_logins_30d" in columns
    meta = {r[0]: r[1:] for r in story.execute(
        "SELECT name, built_from, built_through, retired_at IS NOT NULL FROM meta.kpi_definitions")}
    assert meta["my_logins_30d"] == (START, END, False)
    assert meta["my_message_days_7d"] == (None, None, True)


SCORECARD_WITH_CUSTOM_KPIS = """
bands: {red: 40, green: 70}
min_coverage: 0.5
rollup: {method: mean}
scorecards:
  - name: everyone
    groups:
      usage:
        weight: 1
        measures:
          logins_per_employee: {kpi: logins_per_employee_30d, direction: higher_is_better, method: thresholds,
                                red: 0.01, green: 0.1, weight: 1}
          quiet_days: {kpi: days_since_last_report, direction: lower_is_better, method: thresholds,
                       red: 30, green: 3, weight: 1}
"""
CUSTOM_KPIS_YAML = """
  logins_per_employee_30d:
    label: Logins per employee (30 days)
    description: Logins in the last 30 days per CRM employee.
    ratio: {numerator: logins_30d, denominator: employees}
  days_since_last_report:
    label: Days since the last report
    description: Days since someone created or exported a report.
    days_since: {events_matching: 'report%'}
"""


def test_kpis_added_by_yaml_alone_are_scored_and_explained(warehouse, warehouse_url, tmp_path, monkeypatch):
    """The issue's "done when": a ratio and a days_since KPI, declared in kpis.yml only, in the components."""
    from customer_health.scoring.pipeline import build_and_score  # noqa: PLC0415
    from tests.helpers import accounts, load_rows, include_with  # noqa: PLC0415

    include_with(tmp_path, monkeypatch, scorecards=SCORECARD_WITH_CUSTOM_KPIS, kpis_declarations=CUSTOM_KPIS_YAML)

    day = date(2026, 11, 21)
    load_rows(warehouse_url, "crm_accounts", accounts("a1", "a2"))  # 50 employees each
    events = [{"event_id": f"e{n}", "account_id": "a1", "user_id": "u1", "event_name": "login",
               "occurred_at": f"2026-11-{10 + n:02d}T09:00:00Z", "duration_seconds": 60} for n in range(10)]
    events.append({"event_id": "r1", "account_id": "a1", "user_id": "u1", "event_name": "report_export",
                   "occurred_at": "2026-11-19T10:00:00Z", "duration_seconds": None})
    events.append({"event_id": "r2", "account_id": "a2", "user_id": "u2", "event_name": "report_created",
                   "occurred_at": "2026-10-01T10:00:00Z", "duration_seconds": None})
    load_rows(warehouse_url, "usage_events", events)
    build_and_score(day, warehouse_url=warehouse_url)

    components = {(account, kpi): float(raw) if raw is not None else None for account, kpi, raw in warehouse.execute(
        "SELECT account_id, kpi, raw_value FROM marts.health_score_components WHERE day = %s", [day])}
    assert components == {("a1", "logins_per_employee_30d"): pytest.approx(10 / 50),
                          ("a1", "days_since_last_report"): 2.0,   # exported 11-19
                          ("a2", "logins_per_employee_30d"): 0.0,
                          ("a2", "days_since_last_report"): 51.0}  # created 10-01
    scores = dict(warehouse.execute("SELECT account_id, score FROM marts.health_scores WHERE day = %s", [day]).fetchall())
    assert scores["a1"] > scores["a2"]


def test_validate_config_warns_about_declared_events_that_never_occur_and_constant_kpis(
        story, warehouse_url, tmp_path, monkeypatch, capsys):
    import shutil  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    from customer_health.cli import main  # noqa: PLC0415
    from demo.localenv import REPO_ROOT  # noqa: PLC0415

    include = tmp_path / "include"
    shutil.copytree(REPO_ROOT / "include", include)
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))
    monkeypatch.setenv("WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", warehouse_url)
    declarations = DECLARED.model_dump(mode="json", exclude_none=True)["kpis"] | {
        "posts_30d": {"label": "Posts", "description": "d", "count": {"events": ["post_created"], "window": 30}},
        "friend_days": {"label": "Friends", "description": "d", "days_since": {"events_matching": "friend%"}}}
    (include / "config" / "kpis.yml").write_text(yaml.safe_dump({**CONFIG.model_dump(), "kpis": declarations}),
                                                 encoding="utf-8")
    assert main(["validate-config"]) == 0
    out = capsys.readouterr().out
    assert ("WARNING kpis.yml: kpis.posts_30d: event 'post_created' never occurs in staging.usage_events: "
            "the KPI is zero (or NULL) for everyone") in out
    assert "WARNING kpis.yml: kpis.friend_days: events_matching 'friend%' matches no event name" in out
    assert "kpis.my_logins_30d" not in out and "kpis.my_messages_30d" not in out
    constant = {line.split("'")[1] for line in out.splitlines() if "had one value for every account" in line}
    assert "my_message_days_7d" in constant   # no message in the mart's last 30 days
    assert "my_logins_30d" not in constant and "logins_30d" not in constant
    assert "posts_30d" not in constant        # not built yet: no column to judge
