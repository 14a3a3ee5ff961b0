"""kpis.yml ``kpis:`` declarations: good files load, bad ones are named by file, key and what is allowed."""
from __future__ import annotations

import pytest

from customer_health.config import ConfigError
from customer_health.config.kpis import definition_hash, load_kpis
from customer_health.config.kpi_catalog import catalogue
from customer_health.contracts.kpi_catalog import STANDARD_KPIS

GOOD = """
login_event: login
kpis:
  logins_30d: {label: Logins (30 days), description: Logins in 30 days., unit: count}
  messages_30d:
    label: Messages (30 days)
    description: Messages sent in the last 30 days.
    count: {events: [message_sent], window: 30}
  exports_minutes_7d:
    label: Export minutes
    description: Minutes spent exporting.
    sum: {events_matching: 'report_%', window: 7, scale: minutes}
  busy_days_30d:
    label: Busy days
    description: Days with a message.
    distinct: {of: days, events: [message_sent], window: 30}
  messages_per_active_user:
    label: Messages per active user
    description: Messages in 30 days per active user.
    ratio: {numerator: messages_30d, denominator: active_users_30d}
  messages_change:
    label: Messages vs the previous 30 days
    description: Messages against the 30 days before.
    change: {of: messages_30d}
  days_since_first_export:
    label: Days since the first export
    description: Days since the first report export.
    days_since: {events: [report_export], which: first}
  message_senders_30d:
    label: Message senders
    description: People who sent a message in 30 days.
    distinct: {of: users, events_matching: 'message%', window: 30}
  report_features_30d:
    label: Report features
    description: Report event names used in 30 days.
    distinct: {of: features, events_matching: 'report%', window: 30}
  account_age:
    label: Account age
    description: Days since the CRM created the account.
    tenure: {since: crm_created}
  days_using:
    label: Days using the product
    description: Days since the first event.
    tenure: {since: first_event}
  renewals:
    label: Renewals
    description: Contract terms renewed so far.
    contract: {fact: renewals_so_far}
  nps_age:
    label: NPS age
    description: Days since the latest NPS answer.
    survey: {survey: nps, measure: age_days}
  csat_avg_30d:
    label: CSAT (30 days)
    description: Mean CSAT of 30 days.
    survey: {survey: csat, measure: average, window_days: 30}
  crm_employees:
    label: Employees
    description: Employees as the CRM says.
    crm: {property: employees}
"""


def load(tmp_path, text):
    path = tmp_path / "kpis.yml"
    path.write_text(text, encoding="utf-8")
    return load_kpis(path)[0]


def problems(tmp_path, text) -> str:
    with pytest.raises(ConfigError) as error:
        load(tmp_path, text)
    return str(error.value)


def test_a_good_file_declares_every_kind(tmp_path):
    config = load(tmp_path, GOOD)
    assert {n: e.kind for n, e in config.custom().items()} == {
        "messages_30d": "count", "exports_minutes_7d": "sum", "busy_days_30d": "distinct",
        "messages_per_active_user": "ratio", "messages_change": "change", "days_since_first_export": "days_since",
        "message_senders_30d": "distinct", "report_features_30d": "distinct", "account_age": "tenure",
        "days_using": "tenure", "renewals": "contract", "nps_age": "survey", "csat_avg_30d": "survey",
        "crm_employees": "crm"}
    assert config.kpis["logins_30d"].kind is None
    assert config.kpis["days_since_first_export"].days_since.which == "first"


def test_the_shipped_file_labels_every_standard_kpi():
    config = load_kpis()[0]
    assert set(config.kpis) >= set(STANDARD_KPIS)
    assert all(config.kpis[name].label and config.kpis[name].description for name in STANDARD_KPIS)
    assert catalogue()["logins_30d"].label == "Logins (30 days)"


def test_the_catalogue_lists_custom_kpis_with_their_streams(tmp_path):
    load(tmp_path, GOOD)
    found = catalogue(tmp_path / "kpis.yml")
    assert found["messages_30d"].stream == "usage_events" and found["messages_30d"].numeric
    assert found["messages_per_active_user"].label == "Messages per active user"
    assert found["industry"].numeric is False and found["industry"].kind is None
    assert {n: found[n].stream for n in ("account_age", "days_using", "renewals", "nps_age", "crm_employees")} == {
        "account_age": "crm_accounts", "days_using": "usage_events", "renewals": "crm_contracts",
        "nps_age": "survey_responses", "crm_employees": "crm_accounts"}


@pytest.mark.parametrize(("declaration", "message"), [
    ("logins_30d: {label: L, description: D, count: {events: [login], window: 30}}",
     "kpis: Value error, logins_30d: is a standard KPI (computed by the pipeline), so it takes no kind (count); "
     "give your KPI another name"),
    ("mine: {label: L, description: D}", "mine: not a standard KPI, so give it one kind: count, sum, distinct"),
    ("Mine: {label: L, description: D, count: {events: [x], window: 3}}", "'Mine': a KPI name is lower case"),
    ("mine: {label: L, description: D, count: {events: [x], window: 400}}",
     "kpis.mine.count.window: Input should be less than or equal to 365 (got 400)"),
    ("mine: {label: L, description: D, count: {window: 3}}",
     "kpis.mine.count: Value error, give exactly one of events: [names] or events_matching"),
    ("mine: {label: L, description: D, count: {events: [x], window: 3}, sum: {events: [x], window: 3}}",
     "kpis.mine: Value error, give exactly one kind, got count, sum"),
    ("mine: {label: L, description: D, distinct: {of: sessions, window: 3}}",
     "kpis.mine.distinct.of: Input should be 'days', 'users' or 'features' (got 'sessions')"),
    ("u: {label: L, description: D, distinct: {of: users, window: 3}}\n"
     "  mine: {label: L, description: D, change: {of: u}}",
     "mine.change.of: 'u' is not a windowed custom KPI (count, sum or distinct of days) of this file; allowed: (none"),
    ("mine: {label: L, description: D, tenure: {since: signup}}",
     "kpis.mine.tenure.since: Input should be 'crm_created' or 'first_event' (got 'signup')"),
    ("mine: {label: L, description: D, contract: {fact: mrr}}",
     "kpis.mine.contract.fact: Input should be 'arr', 'days_to_renewal', 'renewals_so_far' or "
     "'days_since_contract_start' (got 'mrr')"),
    ("mine: {label: L, description: D, survey: {survey: cmi}}",
     "kpis.mine.survey.survey: Input should be 'nps' or 'csat' (got 'cmi')"),
    ("mine: {label: L, description: D, survey: {survey: nps, measure: average}}",
     "kpis.mine.survey: Value error, measure average needs window_days: 1..365"),
    ("mine: {label: L, description: D, survey: {survey: nps, window_days: 90}}",
     "kpis.mine.survey: Value error, window_days is only for measure average"),
    ("mine: {label: L, description: D, survey: {survey: csat, measure: average, window_days: 0}}",
     "kpis.mine.survey.window_days: Input should be greater than or equal to 1 (got 0)"),
    ("mine: {label: L, description: D, crm: {property: industry}}",
     "kpis.mine.crm.property: Value error, 'industry' is not a numeric property of crm_accounts; allowed: employees"),
    ("mine: {label: L, description: D, crm: {property: employees}, tenure: {}}",
     "kpis.mine: Value error, give exactly one kind, got tenure, crm; allowed: count, sum, distinct, ratio, change, "
     "days_since, tenure, contract, survey, crm"),
    ("mine: {label: L, description: D, ratio: {numerator: nothing_here, denominator: employees}}",
     "mine.ratio.numerator: 'nothing_here' is not a numeric KPI; allowed: standard numeric KPIs"),
    ("mine: {label: L, description: D, ratio: {numerator: region, denominator: employees}}",
     "mine.ratio.numerator: 'region' is not a numeric KPI"),
    ("mine: {label: L, description: D, change: {of: logins_30d}}",
     "mine.change.of: 'logins_30d' is not a windowed custom KPI (count, sum or distinct of days) of this file; allowed: (none"),
    ("a: {label: L, description: D, ratio: {numerator: b, denominator: employees}}\n"
     "  b: {label: L, description: D, ratio: {numerator: a, denominator: employees}}",
     "a: refers to itself through a -> b -> a"),
    ("mine: {label: L, description: D, days_since: {events: [x], which: middle}}",
     "kpis.mine.days_since.which: Input should be 'last' or 'first'"),
    ("mine: {label: L, description: D, count: {events: [x], window: 3}, colour: red}",
     "kpis.mine.colour: unknown key (a typo?)"),
])
def test_bad_declarations_name_the_file_key_and_what_is_allowed(tmp_path, declaration, message):
    text = problems(tmp_path, f"kpis:\n  {declaration}\n")
    assert "kpis.yml: " in text and message in text, text


def test_the_definition_hash_follows_values_not_labels(tmp_path):
    first = load(tmp_path, GOOD)
    relabelled = load(tmp_path, GOOD.replace("label: Messages (30 days)", "label: Messages sent"))
    rewindowed = load(tmp_path, GOOD.replace("count: {events: [message_sent], window: 30}",
                                             "count: {events: [message_sent], window: 28}"))
    assert definition_hash("messages_30d", first) == definition_hash("messages_30d", relabelled)
    assert definition_hash("messages_30d", first) != definition_hash("messages_30d", rewindowed)
    # a ratio holds other values when its operand does
    assert definition_hash("messages_per_active_user", first) != definition_hash("messages_per_active_user", rewindowed)
    assert definition_hash("busy_days_30d", first) == definition_hash("busy_days_30d", rewindowed)


def readme_kpi_blocks() -> list[str]:
    from demo.localenv import REPO_ROOT  # noqa: PLC0415

    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    return [b for b in blocks if b.startswith("kpis:")]


def test_the_readme_kpi_declarations_validate(tmp_path):
    blocks = readme_kpi_blocks()
    assert len(blocks) == 2, "the social app of Adding a source, and Adding a KPI"
    for block in blocks:
        config = load(tmp_path, block)
        assert config.custom() and all(entry.label for entry in config.kpis.values())
    social = next(b for b in blocks if "unfriends_per_new_friend" in b)
    assert load(tmp_path, social).kpis["unfriends_per_new_friend"].ratio.denominator == "new_friends_90d"


def test_a_kpi_rule_reason_names_the_kpi_by_its_label(tmp_path, monkeypatch):
    """A CSM reads "Logins vs the previous 30 days is -47%", not the column name; a custom KPI by its label too."""
    import shutil  # noqa: PLC0415

    from customer_health.playbooks.conditions import AccountFacts, KpiRule, _kpis  # noqa: PLC0415
    from demo.localenv import REPO_ROOT  # noqa: PLC0415

    include = tmp_path / "include"
    shutil.copytree(REPO_ROOT / "include", include)
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))
    kpis_yml = include / "config" / "kpis.yml"
    kpis_yml.write_text(kpis_yml.read_text(encoding="utf-8") + "\n  messages_30d: {label: Messages (30 days), "
                        "description: d, count: {events: [message_sent], window: 30}}\n", encoding="utf-8")
    facts = AccountFacts("a1", "q", "red", 20.0, "yellow", {}, {"logins_change_30d_pct": -0.47, "messages_30d": 3.0},
                         None, False)
    rules = [KpiRule(kpi="logins_change_30d_pct", lt=-0.3), KpiRule(kpi="messages_30d", lt=5)]
    assert _kpis(rules, facts) == "Logins vs the previous 30 days is -47%; Messages (30 days) is 3"
