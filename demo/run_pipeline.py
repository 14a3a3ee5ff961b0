"""`make demo`: the whole pipeline, end to end, on deterministic sample data.

1. Find the warehouse: ``WAREHOUSE_URL``, else a Postgres at 127.0.0.1:5432,
   else an embedded Postgres under ``.demo/pgdata`` (stopped when the demo ends).
2. Apply migrations; generate the sample data (product database, CRM and
   survey exports); load the dated snapshots of the CRM and the product into
   history, as if the warehouse had been loading all along (``demo.history``);
   start the HubSpot and Typeform emulators on loopback.
3. Run the real DAGs through Airflow (``dag.test()``, all in this process): the ingest
   DAGs (CRM first), ``build_health_scores`` (with five weeks of history, so
   trends exist) and ``create_csm_tasks`` twice (the second creates nothing).
4. Print what landed and what was quarantined, the scores by band and
   segment with the biggest movers and why, the quadrants, and each CSM's
   tasks with their play and reason.

Running it twice gives the same warehouse: the data is the same, loads are
incremental and merges are idempotent.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import threading
import time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from psycopg import sql

from demo.localenv import DEMO_TOKEN, REPO_ROOT, airflow_env

sys.path.insert(0, str(REPO_ROOT / "plugins"))

from customer_health.config.sources import load_sources  # noqa: E402
from customer_health.warehouse.db import (  # noqa: E402
    DEFAULT_WAREHOUSE_URL,
    connect,
    describe,
    ensure_database,
    url_with_database,
)
from customer_health.warehouse.migrate import migrate  # noqa: E402
from demo.local_postgres import NoPostgres, chosen_server  # noqa: E402

DEMO_DIR = REPO_ROOT / ".demo"
HISTORY_DAYS = 35
LOG_DIR = DEMO_DIR / "logs"
AIRFLOW_HOME = REPO_ROOT / ".airflow"


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def warehouse_server():
    """The demo's warehouse by the rule of demo/local_postgres.py: WAREHOUSE_URL, else a local Postgres,
    else an embedded one under .demo/pgdata (stopped when the demo ends, however it ends)."""
    return chosen_server(env_var="WAREHOUSE_URL", default_url=DEFAULT_WAREHOUSE_URL, pgdata=DEMO_DIR / "pgdata",
                         purpose="the demo")


def source_order() -> list[str]:
    """Sources that bring CRM accounts first: other streams must name known accounts."""
    sources = load_sources()
    return sorted(sources, key=lambda name: "crm_accounts" not in sources[name].streams)


class InProcessAirflow:
    """Airflow in this process: the metadata database migrated once, the DAG folder parsed once, and each
    DAG run with ``dag.test()``, as the tests run them. One process instead of one ``airflow`` command per
    DAG run saves a start-up of Airflow (10-40 s on 2 busy cores) each time.

    Airflow reads its configuration on first import, so ``env`` goes into ``os.environ`` before that.
    Each run's output (the task logs, at INFO) goes to ``.demo/logs/<dag_id>.log``; the console gets the
    product's own log lines (what each step did: rows, days, seconds) as they come, and the task states.
    """

    def __init__(self, env: dict[str, str]):
        assert "airflow" not in sys.modules, "Airflow was imported before its environment was set"
        os.environ.update(env)
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with _output_to(LOG_DIR / "db-migrate.log", echo=False):
            from airflow.utils.db import upgradedb  # noqa: PLC0415 - after the environment is set

            upgradedb()
        print(f"    metadata database migrated ({time.monotonic() - started:.1f}s)", flush=True)
        started = time.monotonic()
        from airflow.dag_processing.dagbag import DagBag  # noqa: PLC0415

        self.bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
        if self.bag.import_errors:
            sys.exit(f"DAG import errors: {self.bag.import_errors}")
        print(f"    {len(self.bag.dags)} DAGs parsed ({time.monotonic() - started:.1f}s)", flush=True)

    def run(self, dag_id: str, run_date: date, conf: dict | None = None) -> None:
        """One DAG run; stops the demo with the end of its log when a task failed."""
        from datetime import datetime, timezone  # noqa: PLC0415

        started = time.monotonic()
        log_path = LOG_DIR / f"{dag_id}.log"
        print(f"    {dag_id}{' ' + json.dumps(conf) if conf else ''}:", flush=True)
        with _output_to(log_path, echo=True):
            run = self.bag.dags[dag_id].test(
                logical_date=datetime(run_date.year, run_date.month, run_date.day, tzinfo=timezone.utc),
                run_conf=conf)
        states = {ti.task_id: ti.state for ti in run.get_task_instances()}
        failed = sorted(task for task, state in states.items() if state != "success")
        if failed:
            print(log_path.read_text(encoding="utf-8")[-4000:])
            sys.exit(f"{dag_id}: {', '.join(failed)} did not succeed ({states}); the end of its log is above, "
                     f"all of it in {log_path}")
        print(f"      ok: {len(states)} tasks succeeded in {time.monotonic() - started:.1f}s", flush=True)


PRODUCT_LOG_LINE = re.compile(r"\[(?:info|warning|error)\s*\] (?P<message>.*?)\s+\[(?P<logger>customer_health\.[\w.]+)\]")
QUIET_ON_CONSOLE = {"customer_health.scoring.engine"}  # one line per day scored: the pipeline's progress says it


@contextmanager
def _output_to(path: Path, *, echo: bool):
    """Send everything written to this process's stdout and stderr (file descriptors 1 and 2, so Airflow's
    log handlers too) to ``path``; with ``echo``, show the product's own log lines on the console meanwhile."""
    sys.stdout.flush()
    sys.stderr.flush()
    console = os.dup(1)
    saved_err = os.dup(2)
    stop = threading.Event()
    with open(path, "w", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        follower = threading.Thread(target=_follow, args=(path, console, stop), daemon=True) if echo else None
        if follower:
            follower.start()
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(console, 1)
            os.dup2(saved_err, 2)
            stop.set()
            if follower:
                follower.join()
            os.close(console)
            os.close(saved_err)


def _follow(path: Path, console: int, stop: threading.Event) -> None:
    """Echo the product's log lines of ``path`` to the console as they are written, until ``stop``."""
    with open(path, encoding="utf-8", errors="replace") as log:
        while True:
            line = log.readline()
            if not line:
                if stop.is_set():
                    return
                time.sleep(0.2)
                continue
            match = PRODUCT_LOG_LINE.search(line)
            if match and match["logger"] not in QUIET_ON_CONSOLE:
                os.write(console, f"      {match['message'][:200]}\n".encode())


def summarise_loads(conn, since) -> None:
    step("Loads")
    print(f"{'source.stream':<34}{'received':>10}{'new':>8}{'updated':>9}{'same':>8}{'quarantined':>13}  path")
    for row in conn.execute(
        """SELECT source || '.' || stream, sum(rows_received), sum(rows_inserted), sum(rows_updated),
                  sum(rows_unchanged), sum(rows_quarantined), string_agg(DISTINCT load_path, '+')
           FROM meta.load_batches WHERE started_at >= %s GROUP BY 1 ORDER BY 1""",
        [since],
    ):
        print(f"{row[0]:<34}{row[1]:>10}{row[2]:>8}{row[3]:>9}{row[4]:>8}{row[5]:>13}  {row[6]}")
    print("  (bulk: a backfill COPYed straight into staging, indexes built after; careful: value by value)")
    print("\nRows in the warehouse:")
    for table in (
        "crm_accounts", "crm_owners", "crm_contracts", "crm_expansions", "crm_sentiment",
        "usage_events", "users", "licences", "survey_responses",
    ):
        (n,) = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("staging", table))).fetchone()
        print(f"  staging.{table:<20}{n:>10}")
    print("\nQuarantined rows (meta.quarantine), by reason:")
    for source, stream, reason, n in conn.execute(
        """SELECT source, stream, reason, count(*) FROM meta.quarantine WHERE released_in_batch IS NULL
           GROUP BY 1, 2, 3 ORDER BY 1, 2, 4 DESC"""
    ):
        print(f"  {source}.{stream}: {n} x {reason}")


def summarise_scores(conn) -> None:
    day, version = conn.execute(
        """SELECT h.day, h.config_version FROM marts.health_scores h JOIN meta.scorecard_versions v USING (config_version)
           WHERE v.role = 'live' ORDER BY h.day DESC, h.computed_at DESC LIMIT 1"""
    ).fetchone()
    step(f"Health scores on {day} (scorecards version {version})")
    bands = ("green", "yellow", "red", "insufficient_data")
    print(f"{'scorecard':<24}" + "".join(f"{b:>19}" for b in bands))
    for scorecard, *counts in conn.execute(
        f"""SELECT scorecard, {", ".join(f"count(*) FILTER (WHERE band = '{b}')" for b in bands)}
            FROM marts.health_scores WHERE day = %s AND config_version = %s GROUP BY 1 ORDER BY 1""",  # noqa: S608
        [day, version],
    ):
        print(f"{scorecard:<24}" + "".join(f"{n:>19}" for n in counts))
    print("\nBiggest movers over 7 days, and why:")
    for account, name, score, change, reasons in conn.execute(
        """SELECT h.account_id, a.name, h.score, h.change_7d,
                  (SELECT string_agg(c.measure || ' ' || to_char(c.contribution_change, 'SG990.0'), ', '
                                     ORDER BY abs(c.contribution_change) DESC)
                   FROM (SELECT * FROM marts.health_score_changes c
                         WHERE c.account_id = h.account_id AND c.day = h.day AND c.config_version = h.config_version
                           AND c.horizon_days = 7 ORDER BY abs(c.contribution_change) DESC LIMIT 3) c)
           FROM marts.health_scores h JOIN marts.accounts_current a USING (account_id)
           WHERE h.day = %s AND h.config_version = %s AND h.change_7d IS NOT NULL
           ORDER BY abs(h.change_7d) DESC LIMIT 5""",
        [day, version],
    ):
        print(f"  {name} ({account}): {score} ({change:+}) - {reasons}")
    print("\nHealth x maturity:")
    for quadrant, n in conn.execute(
        """SELECT quadrant, count(*) FROM marts.account_quadrants WHERE day = %s AND health_version = %s
           GROUP BY 1 ORDER BY 2 DESC""",
        [day, version],
    ):
        print(f"  {quadrant:<18}{n:>5}")


def summarise_tasks(conn, day, created_in_runs: list[int]) -> None:
    step(f"CSM tasks for {day}")
    current = None
    for csm, play, account, title, reason in conn.execute(
        """SELECT coalesce(t.owner_email, 'queue: ' || t.queue), t.play, a.name, t.title, t.reason
           FROM marts.csm_tasks t JOIN marts.accounts_current a USING (account_id)
           WHERE t.day = %s AND t.status = 'open' ORDER BY 1, t.priority, t.play, a.name""",
        [day],
    ):
        if csm != current:
            print(f"  {csm}")
            current = csm
        print(f"    [{play}] {title} - {reason}")
    print("\nTasks created per run of create_csm_tasks: " + ", ".join(map(str, created_in_runs))
          + " (a rerun creates none: one open task per play and account)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--end-date", default="2026-11-22", help="last day of sample data")
    args = parser.parse_args(argv)
    started = time.monotonic()
    step("Warehouse")
    try:
        with warehouse_server() as server:
            print(f"    {server.reason}", flush=True)
            run(args, server.url, started, embedded=server.how == "embedded")
    except NoPostgres as exc:
        sys.exit(str(exc))
    return 0


def run(args, url: str, started: float, *, embedded: bool = False) -> None:
    if ensure_database(url):
        print(f"    created database {describe(url)}")
    with connect(url) as conn:
        since = conn.execute("SELECT now()").fetchone()[0]
        applied = migrate(conn)
    print(f"    {describe(url)}: {len(applied)} migrations applied" if applied else f"    {describe(url)}: schema up to date")

    step("Sample data")
    from demo.generate import generate  # noqa: PLC0415

    product_db_url = url_with_database(url, "product_demo")
    counts = generate(DEMO_DIR, args.accounts, args.days, 7, date.fromisoformat(args.end_date), product_db_url)
    print("    " + ", ".join(f"{k}: {v}" for k, v in counts.items() if isinstance(v, int)))
    from demo.history import load_snapshots  # noqa: PLC0415

    loaded = load_snapshots(url, DEMO_DIR / "snapshots")
    if loaded:
        print(f"    {loaded} dated snapshots of the CRM and the product loaded into history (past days read what was known then)")

    step("Emulators (HubSpot, Typeform) and receivers (Slack webhook, SMTP) on loopback")
    from demo.emulators import hubspot, typeform  # noqa: PLC0415
    from demo.receivers import SlackReceiver, SmtpReceiver  # noqa: PLC0415

    with (
        hubspot.start(DEMO_DIR / "hubspot", DEMO_TOKEN) as crm_api,
        typeform.start(DEMO_DIR / "typeform", DEMO_TOKEN) as survey_api,
        SlackReceiver() as slack,
        SmtpReceiver() as smtp,
    ):
        print(f"    HubSpot {crm_api.base_url}  Typeform {survey_api.base_url}  Slack {slack.base_url}  SMTP :{smtp.port}")
        env = airflow_env(
            airflow_home=AIRFLOW_HOME,
            warehouse_url=url,
            product_db_url=product_db_url,
            hubspot_url=crm_api.base_url,
            typeform_url=survey_api.base_url,
            slack_connection=slack.connection("services/DEMO/DEMO/demo"),
            smtp_connection=smtp.connection("customer-health@example.com"),
        )
        step("Airflow: metadata database and DAG runs (in this process, task logs in .demo/logs/)")
        airflow = InProcessAirflow(env)
        run_date = date.fromisoformat(args.end_date) + timedelta(days=1)
        for source in source_order():
            airflow.run(f"ingest_{source}", run_date)
        # The first scoring run also scores the weeks before, so trends and movers exist.
        airflow.run("build_health_scores", run_date, {"history_days": HISTORY_DAYS})
        created_in_runs = []
        for _ in range(2):  # twice: the second run shows that nothing is created again
            before = task_count(url)
            airflow.run("create_csm_tasks", run_date)
            created_in_runs.append(task_count(url) - before)
        delivered = (len(slack.messages), len(smtp.messages), sum(1 for r in crm_api.requests if r[0] == "POST" and r[1].endswith("/objects/tasks")))
        # The Check of PDCA: the weekly evaluation DAG, its report under .demo/reports.
        airflow.run("evaluate_scores", run_date, {"report_dir": str(DEMO_DIR / "reports")})
    # Airflow set up logging in this process; the summaries below print what matters themselves.
    logging.getLogger("customer_health").setLevel(logging.WARNING)
    with connect(url) as conn:
        summarise_loads(conn, since)
        summarise_scores(conn)
        summarise_tasks(conn, date.fromisoformat(args.end_date), created_in_runs)
        summarise_evaluation(conn)
    print(f"Delivered this run: {delivered[2]} CRM tasks created, {delivered[0]} Slack digests, {delivered[1]} e-mail digests")
    print(
        "\nWhere to look next:\n"
        + (f"  psql '{url}'   staging.*, marts.*, meta.quarantine, meta.load_batches\n" if not embedded else
           "  (the embedded Postgres stops with the demo; its data stays under .demo/pgdata for the next run)\n")
        + "  make airflow    the same DAGs in the Airflow UI (http://localhost:8080, admin / admin)\n"
        "  PYTHONPATH=plugins .venv/bin/python -m customer_health quarantine\n"
        "  PYTHONPATH=plugins .venv/bin/python -m customer_health validate-scorecards CANDIDATE.yml\n"
        "  PYTHONPATH=plugins .venv/bin/python -m customer_health backtest .demo/fitted_scorecards.yml\n"
        "  .demo/reports/evaluation.html   does the score foresee churn, with every figure's interval"
    )
    print(f"\nDemo finished in {time.monotonic() - started:.0f}s.")


def summarise_evaluation(conn) -> None:
    """The Check and Act of PDCA on the demo history: the shipped scorecards judged, a bad candidate
    backtested against them on identical rows, and a candidate fitted from the history."""
    from customer_health.config.evaluation import load_evaluation  # noqa: PLC0415
    from customer_health.config.kpis import load_kpis  # noqa: PLC0415
    from customer_health.config.scorecards import load_scorecards  # noqa: PLC0415
    from customer_health.evaluation.backtest import backtest  # noqa: PLC0415
    from customer_health.evaluation.fit import fit_scorecard, write_candidate  # noqa: PLC0415

    step("Does the score foresee churn? (evaluate_scores, report in .demo/reports/evaluation.html)")
    for horizon, verdict in conn.execute(
        """SELECT DISTINCT ON (horizon_days) horizon_days, verdict FROM marts.evaluation_runs
           ORDER BY horizon_days, run_id DESC"""
    ):
        print(f"  {horizon} days: {verdict}")
    settings = load_evaluation()
    step("Backtest: a deliberately bad candidate (demo/candidates/reversed_usage.yml) on the same rows")
    for comparison in backtest(conn, REPO_ROOT / "demo" / "candidates" / "reversed_usage.yml", settings,
                               load_kpis()[0], horizons=[settings.horizons_days[0]]):
        print(f"  {comparison.verdict}")
    step("Act: a candidate fitted from this history (python -m customer_health fit-scorecard)")
    fit, text = fit_scorecard(conn, settings, live=load_scorecards()[0])
    conn.commit()
    print(f"  {fit.message}")
    for measure in fit.measures:
        print(f"    {measure.kpi}: {measure.direction}, weight {measure.weight}")
    if text:
        print(f"  written to {write_candidate(text, DEMO_DIR / 'fitted_scorecards.yml')}")


def task_count(url: str) -> int:
    with connect(url) as conn:
        return conn.execute("SELECT count(*) FROM marts.csm_tasks").fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
