"""Scoring timings at one size of history: a day, CMI and quadrants, the daily run of a new day, a year re-scored.

``bench.run`` (``make bench``) calls ``bench_size`` once per size of ``SIZES``
on a scratch warehouse filled by ``bench.kpis.fill`` (CRM, surveys, sessions
of usage events), so every size has the same accounts and the same events per
day, and only the length of history differs: what a daily step costs must not
grow with it.

Set up first (not measured as a target): the KPIs of every day, the scores of
the 31 days before the last (so the 1 / 7 / 30-day changes find their
partners, as in production) and the tasks of the last day. The tasks the
setup creates are marked as already in the CRM, as yesterday's push would
have left them (pushing 20,000 first-day tasks one by one through the
emulator would time the emulator, not the product).

Measured, each on its own:

- score one day (gate, scores, components, changes, parent roll-up: ``score_day``);
- CMI + quadrants of that day;
- the daily run of one new day, step by step: that day's events through the
  real loader, ``build_accounts``, ``build_and_score`` (KPIs, outcomes, gate,
  scores, CMI, quadrants), the playbooks, and delivery to local receivers
  (new tasks to the HubSpot emulator, digests to a Slack webhook and an SMTP
  receiver on loopback);
- re-scoring ``rescore_days`` days under a candidate scorecard file, as the
  backtest does (``score_days``, many days per statement), when the history
  is that long.
"""
from __future__ import annotations

import logging
import os
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bench import scratch
from bench.kpis import END_DAY, _load_new_day, _one_pass_floor, fill
from customer_health.warehouse.db import connect

CANDIDATE = scratch.REPO_ROOT / "demo" / "candidates" / "reversed_usage.yml"
SETUP_SCORED_DAYS = 31
TOKEN = "bench-token"

MARK_SETUP_TASKS_PUSHED = """
UPDATE marts.csm_tasks SET crm_task_id = 'bench-' || task_id, pushed_at = now()
WHERE crm_task_id IS NULL AND 'crm' = ANY (channels)
"""


@dataclass
class SizeFigures:
    label: str
    events: int
    accounts: int
    days: int
    fill_s: float = 0.0
    kpis_s: float = 0.0
    floor_s: float = 0.0
    custom_kpis: list[str] = field(default_factory=list)
    setup_score_s: float = 0.0
    score_day_s: float = 0.0
    scored_accounts: int = 0
    cmi_quadrants_s: float = 0.0
    daily: dict[str, float] = field(default_factory=dict)
    daily_counts: dict[str, int] = field(default_factory=dict)
    rescore_days: int = 0
    rescore_s: float | None = None

    @property
    def daily_s(self) -> float:
        return sum(self.daily.values())

    @property
    def kpis_ratio(self) -> float:
        return self.kpis_s / self.floor_s if self.floor_s else float("nan")

    def lines(self) -> list[str]:
        lines = [
            f"scoring at {self.label}: {self.events:,} events, {self.accounts:,} accounts, {self.days} days of history",
            f"  setup: fill {self.fill_s:.1f} s (not measured), scores of {SETUP_SCORED_DAYS} days {self.setup_score_s:.1f} s",
            f"  KPIs of every day (full recompute)        {self.kpis_s:7.2f} s = {self.kpis_ratio:.1f} x the one-pass "
            f"floor ({self.floor_s:.2f} s: CREATE TABLE AS ... GROUP BY account, day over the events)",
            f"  score one day ({self.scored_accounts:,} accounts)           {self.score_day_s:7.2f} s",
            f"  CMI + quadrants of that day               {self.cmi_quadrants_s:7.2f} s",
            f"  daily run of a new day                    {self.daily_s:7.2f} s: "
            + ", ".join(f"{name} {s:.2f} s" for name, s in self.daily.items()),
            "    " + ", ".join(f"{name} {n:,}" for name, n in self.daily_counts.items()),
        ]
        lines += self.custom_kpis
        if self.rescore_s is not None:
            lines.append(f"  re-score {self.rescore_days} days under a candidate    {self.rescore_s:7.2f} s "
                         f"({self.rescore_s / self.rescore_days:.2f} s a day)")
        return lines


def bench_size(label: str, *, events: int, accounts: int, days: int, rescore_days: int,
               keep: bool = False, custom_kpis: bool = False) -> SizeFigures:
    """Fill a scratch warehouse with ``days`` of history and time the scoring steps on it."""
    from customer_health.kpis import rebuild_kpis, settle_rebuilt_tables  # noqa: PLC0415 - heavy imports after argument parsing
    from customer_health.scoring import pipeline

    figures = SizeFigures(label, events, accounts, days)
    dbname = scratch.unique_name("ch_bench_scoring")
    url = scratch.recreate(dbname, warehouse=True)
    previous_url = os.environ.get("WAREHOUSE_URL")
    os.environ["WAREHOUSE_URL"] = url  # the delivery steps read the warehouse the DAG would give them
    try:
        started = time.perf_counter()
        fill(url, events=events, accounts=accounts, days=days, shape="sessions")
        figures.fill_s = time.perf_counter() - started
        last_day = END_DAY
        with connect(url) as conn:
            figures.floor_s = _one_pass_floor(conn)
            conn.commit()
            started = time.perf_counter()
            rebuild_kpis(conn, END_DAY - timedelta(days=days - 1), END_DAY)
            conn.commit()
            settle_rebuilt_tables(conn)  # part of a rebuild, as the scoring step runs it
            figures.kpis_s = time.perf_counter() - started

        versions = pipeline.register_configs(url)
        pipeline.build_accounts(last_day, url)
        figures.setup_score_s, figures.score_day_s, figures.scored_accounts, figures.cmi_quadrants_s = \
            _score_last_day(url, versions, last_day, min(SETUP_SCORED_DAYS, days - 1))
        with tempfile.TemporaryDirectory(prefix="ch-bench-crm-") as portal:
            _daily_run(url, versions, last_day, Path(portal), figures)
        if days >= rescore_days:
            figures.rescore_days = rescore_days
            figures.rescore_s = _rescore(url, last_day - timedelta(days=rescore_days - 1), last_day)
        if custom_kpis:  # the kpis.yml declarations (issue 14) on the same events, after the standard figures
            from bench.custom_kpis import bench_custom_kpis  # noqa: PLC0415

            figures.custom_kpis = bench_custom_kpis(url)
    finally:
        if previous_url is None:
            os.environ.pop("WAREHOUSE_URL", None)
        else:
            os.environ["WAREHOUSE_URL"] = previous_url
        if not keep:
            scratch.drop(dbname)
    return figures


def _score_last_day(url: str, versions, last_day: date, setup_days: int) -> tuple[float, float, int, float]:
    from customer_health.config.cmi import CmiFile  # noqa: PLC0415
    from customer_health.config.evaluation import load_evaluation
    from customer_health.config.scorecards import ScorecardsFile
    from customer_health.evaluation.outcomes import build_outcomes
    from customer_health.scoring.engine import score_day, score_days
    from customer_health.scoring.maturity import assign_quadrants, score_cmi
    from customer_health.scoring.pipeline import registered_config
    from customer_health.scoring.quality_gate import configured_streams
    from customer_health.warehouse import config_versions

    streams = configured_streams()
    with connect(url) as conn:
        config = registered_config(conn, "scorecards", versions.scorecards, ScorecardsFile)
        cmi = registered_config(conn, "cmi", versions.cmi, CmiFile)
        with conn.transaction():
            build_outcomes(conn, load_evaluation(), last_day)
        started = time.perf_counter()
        if setup_days:
            score_days(conn, last_day - timedelta(days=setup_days), last_day - timedelta(days=1), config,
                       versions.scoring, streams)
        setup_s = time.perf_counter() - started
        started = time.perf_counter()
        scored = score_day(conn, last_day, config, versions.scoring, streams).accounts
        score_s = time.perf_counter() - started
        started = time.perf_counter()
        score_cmi(conn, cmi, versions.cmi)
        assign_quadrants(conn, last_day, cmi, versions.cmi, versions.scoring)
        cmi_s = time.perf_counter() - started
        with conn.transaction():
            config_versions.record_scoring_run(conn, last_day, versions.scoring, versions.cmi, 1)
    return setup_s, score_s, scored, cmi_s


def _daily_run(url: str, versions, last_day: date, portal: Path, figures: SizeFigures) -> None:
    from customer_health.delivery.crm import crm_client, push_tasks  # noqa: PLC0415
    from customer_health.delivery.digest import DigestSettings, send_digests
    from customer_health.playbooks.pipeline import create_tasks
    from customer_health.scoring import pipeline
    from demo.emulators import hubspot
    from demo.receivers import SlackReceiver, SmtpReceiver

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # the SMTP receiver logs every command
    # Every step runs in an Airflow task process, which has Airflow loaded before the step's code
    # starts: its first import here (1.5-1.8 s: configuration, secrets masking) is the runtime's
    # start-up, not the delivery step's work.
    import airflow.sdk  # noqa: F401, PLC0415
    create_tasks(last_day, url)  # setup: yesterday's tasks, as in the CRM already
    with connect(url) as conn:
        conn.execute(MARK_SETUP_TASKS_PUSHED)
        conn.commit()

    (portal / "owners.json").write_text("[]", encoding="utf-8")
    day = last_day + timedelta(days=1)
    with ExitStack() as stack:
        crm = stack.enter_context(hubspot.start(portal, TOKEN))
        slack = stack.enter_context(SlackReceiver())
        smtp = stack.enter_context(SmtpReceiver())
        env = {
            "AIRFLOW_CONN_CRM_TASKS": f"http://:{TOKEN}@{crm.base_url.removeprefix('http://')}",
            "AIRFLOW_CONN_CSM_SLACK": slack.connection("services/T000/B000/csm"),
            "AIRFLOW_CONN_CSM_SLACK_QUEUE": slack.connection("services/T000/B000/queue"),
            "AIRFLOW_CONN_CSM_SMTP": smtp.connection("customer-health@example.com"),
        }
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            started = time.perf_counter()
            figures.daily_counts["events"], _ = _load_new_day(url, day)
            figures.daily["ingest"] = time.perf_counter() - started

            # The scoring DAG's steps one by one (build_and_score runs the same functions in order).
            for step, action in (
                ("accounts", lambda: pipeline.build_accounts(day, url)),
                ("KPIs", lambda: pipeline.build_kpis(day, 0, versions, url)),
                ("gate", lambda: pipeline.quality_gate(day, 0, versions, url)),
                ("score", lambda: pipeline.score(day, 0, versions, url)),
                ("CMI", lambda: pipeline.cmi(versions, url)),
                ("quadrants", lambda: pipeline.quadrants(day, 0, versions, url)),
            ):
                started = time.perf_counter()
                result = action()
                figures.daily[step] = time.perf_counter() - started
                if step == "score":
                    figures.daily_counts["scored"] = result[-1].accounts

            started = time.perf_counter()
            run = create_tasks(day, url)
            figures.daily["playbooks"] = time.perf_counter() - started
            figures.daily_counts["tasks created"] = sum(run.created.values())

            started = time.perf_counter()
            with connect(url, autocommit=True) as conn:
                figures.daily_counts["pushed to CRM"] = push_tasks(conn, crm_client())
                sent = send_digests(conn, day, DigestSettings(queue_slack_conn_id="csm_slack_queue",
                                                              queue_email="cs-queue@example.com"))
            figures.daily["delivery"] = time.perf_counter() - started
            figures.daily_counts["digests"] = sum(sent.values())
            figures.daily_counts["slack posts"] = len(slack.messages)
            figures.daily_counts["mails"] = len(smtp.messages)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _rescore(url: str, first: date, last: date) -> float:
    """Re-score ``first`` .. ``last`` under the demo's candidate, as the backtest's re-scoring does."""
    from customer_health.config.scorecards import load_scorecards  # noqa: PLC0415
    from customer_health.evaluation.backtest import register_candidate
    from customer_health.scoring.engine import score_days
    from customer_health.scoring.quality_gate import configured_streams

    config, _ = load_scorecards(CANDIDATE)
    with connect(url) as conn:
        version = register_candidate(conn, CANDIDATE)
        conn.commit()
        started = time.perf_counter()
        score_days(conn, first, last, config, version, configured_streams())  # as the backtest does
        return time.perf_counter() - started
