"""The README's "Extending" rows, done from here: a play condition and a delivery channel added, run end to end.

Each extension is registered from this test module alone (the stand-in for
"one new module") plus YAML, then driven through the real playbook engine and
the real digest step against a real warehouse: if any other product file had
to change for it to work, these tests would fail. Adding a source kind is
proven the same way in tests/sources/test_add_a_source.py.
"""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import BaseModel, ConfigDict, Field

from customer_health.config import ConfigError
from customer_health.config.playbooks import load_playbooks
from customer_health.delivery.digest import Digest, DigestSettings, digest_channel, send_digests
from customer_health.playbooks.conditions import AccountFacts, play_condition
from customer_health.playbooks.engine import run_playbooks
from customer_health.registry import DELIVERY_CHANNELS, PLAY_CONDITIONS
from tests.integration.test_cmi_and_playbooks import DAY, HV, PLAYBOOKS, cmi, world  # noqa: F401 - fixtures

LOGIN_GAP_PLAY = """
  - name: gone_quiet
    when: {no_login_for: {days: 21}}
    task:
      title: "Nobody logged in at {{ account.name }}"
      body: "{{ reason }}"
      channels: [crm, teams]
      who: x
      what: x
      when: x
      where: x
      why: x
      how: x
"""


class NoLoginFor(BaseModel):
    """The condition's own params model: what its YAML value must be."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    days: int = Field(gt=0)


@pytest.fixture
def no_login_for():
    """A play condition that exists only while this test runs: one decorated function."""
    assert "no_login_for" not in PLAY_CONDITIONS

    @play_condition("no_login_for", NoLoginFor, reads={"usage_events"})
    def no_login_for(params: NoLoginFor, facts: AccountFacts) -> str | None:
        days = facts.kpis.get("days_since_last_login")
        return f"no login for {days} days" if days is not None and days >= params.days else None

    yield no_login_for
    PLAY_CONDITIONS.unregister("no_login_for")


@pytest.fixture
def teams(monkeypatch):
    """A digest channel that exists only while this test runs: one decorated send function (and its connection)."""
    assert "teams" not in DELIVERY_CHANNELS
    monkeypatch.setenv("AIRFLOW_CONN_CSM_TEAMS", "http://teams.example.invalid")
    sent: list[Digest] = []

    @digest_channel("teams", conn_id=lambda settings: "csm_teams")
    def send_to_teams(digest: Digest, settings: DigestSettings) -> None:
        sent.append(digest)

    yield sent
    DELIVERY_CHANNELS.unregister("teams")


def last_login(conn, account_id: str, days_ago: int) -> None:
    conn.execute("UPDATE marts.account_daily_kpis SET days_since_last_login = %s WHERE account_id = %s AND day = %s",
                 [days_ago, account_id, DAY])


def with_play(tmp_path, extra: str, name: str = "playbooks.yml"):
    path = tmp_path / name
    path.write_text(PLAYBOOKS.rstrip() + "\n" + extra, encoding="utf-8")
    return path


def test_a_new_play_condition_is_one_function_plus_yaml(warehouse, world, tmp_path, no_login_for, teams):
    _, _, cmi_version = world
    last_login(warehouse, "fine", 30)
    last_login(warehouse, "quiet", 2)
    playbooks, version = load_playbooks(with_play(tmp_path, LOGIN_GAP_PLAY))

    run = run_playbooks(warehouse, DAY, playbooks, version, HV, cmi_version)
    made = warehouse.execute("SELECT account_id, reason, channels FROM marts.csm_tasks WHERE play = 'gone_quiet'").fetchall()
    assert made == [("fine", "no login for 30 days", ["crm", "teams"])]
    assert run.created["gone_quiet"] == 1

    warehouse.execute("INSERT INTO meta.source_quality (day, stream, stale, reason) VALUES (%s, 'usage_events', true, 'no load')",
                      [DAY])
    suppressed = run_playbooks(warehouse, DAY, playbooks, version, HV, cmi_version).suppressed
    assert suppressed["gone_quiet"] == "stale feed(s) today: usage_events", "the condition's reads feed the stale gate"


def test_a_new_condition_is_validated_by_its_own_params_model(tmp_path, no_login_for, teams):
    broken = with_play(tmp_path, LOGIN_GAP_PLAY.replace("{days: 21}", "{days: 0}"))
    with pytest.raises(ConfigError) as error:
        load_playbooks(broken)
    assert "plays[7].when.no_login_for.days: Input should be greater than 0 (got 0)" in str(error.value)

    typo = with_play(tmp_path, LOGIN_GAP_PLAY.replace("no_login_for", "no_logins_for"), "typo.yml")
    with pytest.raises(ConfigError) as error:
        load_playbooks(typo)
    assert "plays[7].when.no_logins_for: unknown play condition 'no_logins_for'; allowed: band," in str(error.value)
    assert "no_login_for" in str(error.value).split("allowed:")[1], "the new condition is listed as allowed"


def test_a_new_delivery_channel_is_one_function_plus_yaml(warehouse, world, tmp_path, no_login_for, teams):
    _, _, cmi_version = world
    last_login(warehouse, "fine", 30)
    playbooks, version = load_playbooks(with_play(tmp_path, LOGIN_GAP_PLAY))
    run_playbooks(warehouse, DAY, playbooks, version, HV, cmi_version)

    settings = DigestSettings(slack_conn_id="no_such_slack", smtp_conn_id="no_such_smtp")  # only teams is on
    assert send_digests(warehouse, DAY, settings) == {"slack": 0, "email": 0, "teams": 1}
    [digest] = teams
    assert digest.channel == "teams" and digest.queue == "cs-queue" and digest.day == date(2026, 11, 22)
    assert [t.title for t in digest.tasks] == ["Nobody logged in at Account fine"]
    assert warehouse.execute("SELECT owner_email, channel, tasks FROM meta.digests_sent").fetchall() == [
        ("queue:cs-queue", "teams", 1)]
    assert send_digests(warehouse, DAY, settings)["teams"] == 0, "a rerun sends nothing"
    assert len(teams) == 1


def test_an_unknown_channel_names_the_key_and_the_registered_ones(tmp_path, no_login_for, teams):
    broken = with_play(tmp_path, LOGIN_GAP_PLAY.replace("[crm, teams]", "[crm, temas]"))
    with pytest.raises(ConfigError) as error:
        load_playbooks(broken)
    assert ("plays[7].task.channels[1]: Value error, unknown channel 'temas'; allowed: crm, email, slack, teams"
            in str(error.value))


def test_the_kpi_catalogue_lists_every_kpi_column_of_the_mart(warehouse):
    """The KPI row of "Extending": a KPI column without a catalogue entry (or the reverse) is a half-added KPI."""
    from customer_health.contracts.kpi_catalog import ALL_KPIS  # noqa: PLC0415

    columns = {name for (name,) in warehouse.execute(
        """SELECT column_name FROM information_schema.columns
           WHERE table_schema = 'marts' AND table_name = 'account_daily_kpis'""")}
    key = {"account_id", "day"}
    as_of = {"nps_latest_at", "csm_sentiment_at"}  # when the latest answer behind nps_latest / csm_sentiment_latest was given
    assert as_of <= columns
    assert columns - key - as_of == set(ALL_KPIS)
