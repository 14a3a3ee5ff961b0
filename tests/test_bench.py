"""`make bench` (python -m bench.run) end to end at a tiny size: every figure printed, no scratch database left.

No timing is asserted: the figures are for people; this checks that the command
the README shows runs, measures what it says, and cleans up after itself.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import psycopg

from customer_health.paths import REPO_ROOT

# The session's server as tests/conftest.py exported it. Importing tests.conftest instead would run it a
# second time under another name: a new session id, and AIRFLOW_CONN_WAREHOUSE pointing every later DAG
# run of the session at a database nobody created.
ADMIN_URL = os.environ["TEST_POSTGRES_URL"]


def test_make_bench_runs_every_part_at_a_tiny_size_and_drops_its_scratch_databases():
    env = {**os.environ, "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}", "SIZES": "10k,20k"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.run", "--events", "20000", "--accounts", "200", "--days", "40",
         "--rescore-days", "30"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = process.communicate(timeout=1200)
    assert process.returncode == 0, out[-3000:]

    assert "usage events: 20,000 (inserted 20,000" in out  # the load part
    # issue 14's full recompute of the KPIs against the floor, at each size
    assert len(re.findall(r"KPIs of every day \(full recompute\)\s+[\d.]+ s = [\d.]+ x the one-pass floor "
                          r"\([\d.]+ s", out)) == 2, out[-3000:]
    assert re.search(r"custom KPIs \(\d+ declared.*\n.*floor.*\n.*rollup.*\n  full recompute .*: [\d.]+ s = [\d.]+ x the floor"
                     r"\n  one new day .*: [\d.]+ s, rerun [\d.]+ s", out), out[-3000:]  # the kpis.yml declarations
    # each size of SIZES: same events per day (500), so 20 and 40 days of history
    assert "scoring at 10k: 10,000 events, 200 accounts, 20 days of history" in out
    assert "scoring at 20k: 20,000 events, 200 accounts, 40 days of history" in out
    daily = re.findall(r"events (\d+), scored (\d+), tasks created (\d+), pushed to CRM (\d+), digests (\d+)", out)
    assert len(daily) == 2 and all(int(scored) == 200 for _, scored, *_ in daily), out[-3000:]
    # new tasks reached the CRM emulator (held-out ones are recorded, not delivered)
    assert all(int(pushed) <= int(created) for *_, created, pushed, _ in daily)
    assert sum(int(pushed) for *_, pushed, _ in daily) > 0
    summary = out[out.index("summary (200 accounts"):]
    for line in ("KPIs of a new day (20k)", "score one day (20k)", "CMI + quadrants (20k)",
                 "daily run of a new day (20k)", "re-score 30 days (20k)", "peak memory of this process"):
        assert re.search(re.escape(line) + r"\s+[\d.]+(s|MB)", summary), summary
    assert re.search(r"KPI full recompute \(20k\)\s+[\d.]+x\s+3x", summary), summary
    for name in ("KPIs of a day", "score one day", "daily run"):  # sizes side by side
        assert re.search(re.escape(name) + r"\s+[\d.]+s x1\.00\s+[\d.]+s x[\d.]+", summary), summary
    # the daily run step by step: the KPIs of the new day are issue 14's "one new day"
    assert len(re.findall(r"daily run of a new day\s+[\d.]+ s: ingest [\d.]+ s, accounts [\d.]+ s, KPIs [\d.]+ s, "
                          r"gate [\d.]+ s, score [\d.]+ s, CMI [\d.]+ s, quadrants [\d.]+ s, playbooks [\d.]+ s, "
                          r"delivery [\d.]+ s", out)) == 2, out[-3000:]

    with psycopg.connect(ADMIN_URL) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                            [f"ch_bench%\\_{process.pid}\\_%"]).fetchall()
    assert left == []


def test_the_custom_kpi_benchmark_fills_times_and_drops_its_scratch_database():
    """`python -m bench.custom_kpis --fill` (the README's command) at a tiny size: every figure, nothing left."""
    env = {**os.environ, "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.custom_kpis", "--fill", "--events", "5000", "--accounts", "50", "--days", "20"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = process.communicate(timeout=600)
    assert process.returncode == 0, out[-3000:]
    assert "5,000 events, 50 accounts, 20 days filled" in out
    assert re.search(r"full recompute .*: [\d.]+ s = [\d.]+ x the floor\n  one new day .*: [\d.]+ s, rerun [\d.]+ s", out), out
    with psycopg.connect(ADMIN_URL) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                            [f"ch_bench_ckpis\\_{process.pid}\\_%"]).fetchall()
    assert left == []
