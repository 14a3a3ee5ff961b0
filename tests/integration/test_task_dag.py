"""The create_csm_tasks DAG run for real through Airflow, CRM and chat on loopback: a past day writes nothing.

The issue's scenario as an operator meets it: the daily run makes today's
tasks, pushes them to the CRM (the HubSpot emulator) and sends the digests
(a local Slack webhook and SMTP server); then someone triggers the DAG with
``day`` set to an earlier scored day. That run is a preview: no task is
created or closed, nothing new reaches the CRM, no digest goes out.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from demo.emulators import hubspot
from demo.receivers import SlackReceiver, SmtpReceiver
from tests.integration.test_cmi_and_playbooks import (  # noqa: F401 - cmi and world are fixtures
    DAY, HV, PLAYBOOKS, all_tasks, cmi, copy_day, world)
from tests.integration.test_ingest_dags import run_dag

TOKEN = "t0ken"
TODAY = DAY + timedelta(days=1)


@pytest.fixture
def delivery(tmp_path, monkeypatch):
    """The CRM and the chat channels the DAG delivers to, on loopback."""
    portal = tmp_path / "portal"
    portal.mkdir()
    (portal / "owners.json").write_text("[]", encoding="utf-8")
    with hubspot.start(portal, TOKEN) as crm, SlackReceiver() as slack, SmtpReceiver() as smtp:
        monkeypatch.setenv("AIRFLOW_CONN_CRM_TASKS", f"http://:{TOKEN}@{crm.base_url.removeprefix('http://')}")
        monkeypatch.setenv("AIRFLOW_CONN_CSM_SLACK", slack.connection("services/T000/B000/csm"))
        monkeypatch.setenv("AIRFLOW_CONN_CSM_SMTP", smtp.connection("customer-health@example.com"))
        yield crm, slack, smtp


@pytest.mark.airflow
def test_the_dag_for_a_past_day_previews_and_delivers_nothing(warehouse, world, delivery, tmp_path, monkeypatch,
                                                             airflow_db):
    crm, slack, smtp = delivery
    _, _, cmi_version = world
    copy_day(warehouse, DAY, TODAY, "UPDATE copied SET logins_change_30d_pct = 0.1 WHERE account_id = 'quiet'")
    for day in (DAY, TODAY):
        warehouse.execute("INSERT INTO meta.scoring_runs (day, scoring_version, cmi_version, days_scored) "
                          "VALUES (%s, %s, %s, 1)", [day, HV, cmi_version])
    include = tmp_path / "include"
    (include / "config").mkdir(parents=True)
    (include / "sql").symlink_to(Path(__file__).resolve().parents[2] / "include" / "sql")
    (include / "config" / "playbooks.yml").write_text(PLAYBOOKS, encoding="utf-8")
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))

    states = run_dag("create_csm_tasks", datetime(2026, 11, 24, 7, tzinfo=timezone.utc))
    assert set(states.values()) == {"success"}, states
    today = all_tasks(warehouse)
    assert {t[2] for t in today} == {TODAY} and not any(t[:2] == ("logins", "quiet") for t in today)
    pushed = [r for r in crm.requests if r[0] == "POST" and r[2] == 201]
    assert pushed, "the daily run pushed today's tasks to the CRM"
    digests = (len(slack.messages), len(smtp.messages))
    assert digests[0] > 0

    states = run_dag("create_csm_tasks", datetime(2026, 11, 24, 9, tzinfo=timezone.utc), {"day": DAY.isoformat()})
    assert set(states.values()) == {"success"}, states
    assert all_tasks(warehouse) == today  # nothing created from the old day, nothing of today's closed
    assert [r for r in crm.requests if r[0] == "POST" and r[2] == 201] == pushed
    assert (len(slack.messages), len(smtp.messages)) == digests
    assert warehouse.execute("SELECT count(*) FROM meta.digests_sent WHERE day = %s", [DAY]).fetchone() == (0,)


@pytest.mark.airflow
def test_a_template_failing_for_one_account_makes_the_rest_and_turns_one_step_red(warehouse, world, delivery,
                                                                                 tmp_path, monkeypatch, airflow_db):
    crm, _, _ = delivery
    _, _, cmi_version = world
    warehouse.execute("INSERT INTO meta.scoring_runs (day, scoring_version, cmi_version, days_scored) "
                      "VALUES (%s, %s, %s, 1)", [DAY, HV, cmi_version])
    warehouse.execute("UPDATE marts.account_daily_kpis SET logins_7d = CASE account_id WHEN 'keep' THEN 0 ELSE 4 END")
    include = tmp_path / "include"
    (include / "config").mkdir(parents=True)
    (include / "sql").symlink_to(Path(__file__).resolve().parents[2] / "include" / "sql")
    (include / "config" / "playbooks.yml").write_text(PLAYBOOKS.replace(
        'body: "スコア {{ score.value }}（{{ score.band }}）。理由: {{ reason }}"',
        'body: "{% if kpis.logins_7d is not none %}{{ 28 // kpis.logins_7d }} days per login{% endif %}"'),
        encoding="utf-8")
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))

    states = run_dag("create_csm_tasks", datetime(2026, 11, 23, 7, tzinfo=timezone.utc))

    assert states.pop("check_template_errors") == "failed"
    assert set(states.values()) == {"success"}, states  # the tasks were made, pushed and the digests sent
    made = {(play, account) for play, account, *_ in all_tasks(warehouse)}
    assert ("keep_them", "reddened") in made and ("keep_them", "keep") not in made
    assert len(made) == 7
    assert len(crm._server.vendor.objects["tasks"]) >= 7, "every task made reached the CRM (in batches)"
