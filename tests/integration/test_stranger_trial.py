"""A trial on data the demo did not generate, run as a new team would: through the CLI only.

The team has a music-subscription app (``tests/strangers/streaming_app.py``: one listener per account,
no employee counts, its own event names, ~3 % monthly churn). It follows the README: appends a CSV
source to ``sources.yml`` ("Adding a source"), ingests, scores, evaluates; then maps ``kpis.yml`` to its
own events ("Another product's events"), evaluates again, fits a candidate and backtests it. What is
asserted is what the product *says* at each step. Each module gets its own database.

A second dataset has no signal at all (cancellations drawn independently of usage) while usage, and a
naive thresholds scorecard's scores, rise with the calendar: the product must report no signal and
write no fitted file.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from customer_health.warehouse.db import url_with_database
from demo.localenv import REPO_ROOT
from tests.strangers.streaming_app import KPIS_YML, SOURCE_ENTRY, generate

LAST_DAY = "2026-06-30"
SHIPPED_EVENT_NAMES = ("login", "message_sent", "comment_added", "file_uploaded", "report_export", "member_invited")
THEIR_EVENT_NAMES = "app_opened, artist_followed, playlist_created, track_liked, track_played"


@dataclass
class Trial:
    url: str
    include: Path
    folder: Path
    fitted: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "customer_health", *args], cwd=REPO_ROOT, capture_output=True, text=True,
            timeout=600, env={**os.environ, "WAREHOUSE_URL": self.url, "AIRFLOW_CONN_WAREHOUSE": self.url,
                              "CUSTOMER_HEALTH_INCLUDE": str(self.include),
                              "PYTHONPATH": f"{REPO_ROOT / 'plugins'}{os.pathsep}{REPO_ROOT}"})

    def ok(self, *args: str) -> str:
        result = self.cli(*args)
        assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-3000:])
        return result.stdout

    def query(self, statement: str, params=None) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(statement, params).fetchall()

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.include / "config" / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{name} no longer contains {old!r}"
        path.write_text(text.replace(old, new), encoding="utf-8")


def _trial(tmp_path_factory, *, signal: bool, seed: int):
    admin = os.environ["TEST_POSTGRES_URL"]
    database = f"ch_test_stranger_{uuid.uuid4().hex[:8]}"
    root = tmp_path_factory.mktemp("stranger")
    include = root / "include"
    shutil.copytree(REPO_ROOT / "include", include)
    trial = Trial(url_with_database(admin, database), include, root / "exports", root / "fitted.yml")
    generate(trial.folder, listeners=500, signal=signal, seed=seed)
    # README "Adding a source": the exports are a CSV source appended to sources.yml.
    sources = include / "config" / "sources.yml"
    sources.write_text(sources.read_text(encoding="utf-8").rstrip() + "\n\n" + SOURCE_ENTRY.format(folder=trial.folder),
                       encoding="utf-8")
    # The team judges churn within 30 days only, with fewer resamples (a quicker, wider interval).
    trial.edit("evaluation.yml", "horizons_days: [30, 60, 90]", "horizons_days: [30]")
    trial.edit("evaluation.yml", "bootstrap_samples: 500", "bootstrap_samples: 200")
    assert "created database" in trial.ok("migrate")
    loaded = trial.ok("ingest", "listening_app")
    assert "usage_events: received" in loaded and "quarantined 0" in loaded
    try:
        yield trial
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


@pytest.fixture(scope="module")
def listeners(tmp_path_factory):
    yield from _trial(tmp_path_factory, signal=True, seed=7)


@pytest.fixture(scope="module")
def no_signal(tmp_path_factory):
    yield from _trial(tmp_path_factory, signal=False, seed=14)


def _run(trial: Trial) -> tuple[float, float, float, str]:
    (run,) = trial.query("SELECT auc, auc_low, auc_high, verdict FROM marts.evaluation_runs ORDER BY run_id DESC LIMIT 1")
    return run


def _diagnostics(trial: Trial) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind, subject, scope in trial.query(
            """SELECT kind, subject, scope FROM marts.evaluation_diagnostics
               WHERE run_id = (SELECT max(run_id) FROM marts.evaluation_runs) ORDER BY kind, scope, subject"""):
        out.setdefault(kind, []).append(f"{scope}/{subject}")
    return out


def test_the_shipped_config_on_a_stranger_says_what_is_wrong(listeners):
    # Before any KPI build the event names are unknown: not "never occur".
    early = listeners.ok("validate-config")
    assert "event names not checked against the data: no KPI build has read the events yet" in early
    assert "WARNING" not in early
    scored = listeners.ok("score", "--day", LAST_DAY)
    assert "insufficient_data" in scored

    checked = listeners.ok("validate-config")
    for name in SHIPPED_EVENT_NAMES:
        assert f"WARNING kpis.yml: event {name!r} never occurs in staging.usage_events" in checked
    assert f"The product sends these, which kpis.yml names nowhere: {THEIR_EVENT_NAMES}" in checked

    out = listeners.ok("evaluate", "--horizon", "30")
    auc, low, high, verdict = _run(listeners)
    assert verdict in out
    # The shipped names see nothing of this product. Too few scored churners is said as such (most
    # accounts got no score); otherwise the interval includes 0.5 and the verdict says so.
    if verdict.startswith("Too few to tell"):
        assert "had no score (insufficient_data" in verdict, verdict
    else:
        assert low <= 0.5 <= high and verdict.startswith("No significant signal"), verdict
    found = _diagnostics(listeners)
    # No account past onboarding got a number at all, and the evaluation says why, not "bands unreachable".
    assert "scorecard:smb/smb" in found["insufficient_coverage"]
    assert not any(d.startswith("scorecard:smb/") for d in found.get("empty_band", []))
    assert "scorecard:smb_onboarding/green" in found["empty_band"]
    assert {"scorecard:smb/core_actions", "scorecard:smb/milestones"} <= set(found["constant_measure"])
    assert {"scorecard:smb/seat_utilisation", "scorecard:smb/nps"} <= set(found["missing_measure"])
    assert {f"all/{n}" for n in SHIPPED_EVENT_NAMES} <= set(found["unused_event_name"])
    assert found["unmapped_event_names"] == [f"all/{THEIR_EVENT_NAMES}"]
    assert "insufficient_coverage (scorecard:smb): " in out and "were insufficient_data" in out


def test_mapped_to_its_own_events_the_evaluation_finds_what_the_scorecard_loses(listeners):
    (listeners.include / "config" / "kpis.yml").write_text(KPIS_YML, encoding="utf-8")
    listeners.ok("score", "--day", LAST_DAY)  # a new scoring version: kpis.yml is part of it

    out = listeners.ok("evaluate", "--horizon", "30")
    auc, low, high, verdict = _run(listeners)
    # The evaluation backfilled the new version on KPIs rebuilt under the new kpis.yml: the KPI
    # counting track plays now carries signal, and the verdict says the scorecard loses it.
    (core,) = listeners.query(
        """SELECT value, ci_low FROM marts.evaluation_metrics WHERE subject = 'core_actions_per_active_user_30d'
           AND subject_kind = 'kpi' AND run_id = (SELECT max(run_id) FROM marts.evaluation_runs)""")
    assert core[1] > 0.6, core
    assert core[0] > high, (core, verdict)
    assert "the scorecard loses signal its own KPIs carry" in verdict and verdict in out
    assert "unused_event_name" not in out and "insufficient_coverage (scorecard:smb)" not in out


def test_the_fitted_candidate_beats_the_live_one_held_out_with_a_paired_interval(listeners):
    assert "kpis.yml: all 5 configured event names occur in the data - OK" in listeners.ok("validate-config")
    fit = listeners.ok("fit-scorecard", "--out", str(listeners.fitted), "--horizon", "30")
    paired = re.search(r"paired difference candidate - live ([+-][\d.]+) \(95 % CI ([+-][\d.]+) to ([+-][\d.]+)\) "
                       r"on the same ([\d,]+) held-out account-days, (\d+) churned: the candidate is better", fit)
    assert paired, fit
    difference, diff_low, diff_high = (float(g) for g in paired.groups()[:3])
    assert 0 < diff_low < difference < diff_high, fit
    held_out = re.search(r"held-out ROC AUC on [\d\-, ]+: ([\d.]+) \(95 % CI ([\d.]+)-([\d.]+)\); the live scorecards "
                         r"on the same rows: ([\d.]+) \(95 % CI", fit)
    assert held_out and float(held_out.group(2)) > 0.5 and float(held_out.group(1)) > float(held_out.group(4)), fit
    text = listeners.fitted.read_text(encoding="utf-8")
    assert "core_actions" in text and "# Held out, paired difference candidate - live" in text


def test_the_backtest_of_the_fitted_candidate_reports_a_paired_interval(listeners):
    assert listeners.fitted.exists(), "the fitting test before this one wrote no candidate"
    out = listeners.ok("backtest", str(listeners.fitted), "--horizon", "30")
    assert "30 days: The candidate is better" in out and "95 % CI" in out, out
    ((low, difference, high),) = listeners.query(
        "SELECT difference_low, auc_difference, difference_high FROM marts.evaluation_comparisons")
    assert 0 < low < difference < high


NAIVE_SCORECARDS = """\
# The team's first try: absolute thresholds on its own volumes (what the README warns against).
bands: {red: 40, green: 70}
min_coverage: 0.5
scorecards:
  - name: listeners
    groups:
      usage:
        weight: 1
        measures:
          plays: {kpi: core_actions_30d, direction: higher_is_better, method: thresholds, red: 5, green: 120, weight: 2}
          visits: {kpi: logins_30d, direction: higher_is_better, method: thresholds, red: 2, green: 25, weight: 1}
"""


def test_without_signal_drifting_scores_get_no_signal(no_signal):
    (no_signal.include / "config" / "kpis.yml").write_text(KPIS_YML, encoding="utf-8")
    (no_signal.include / "config" / "scorecards.yml").write_text(NAIVE_SCORECARDS, encoding="utf-8")
    no_signal.ok("score", "--day", LAST_DAY)
    out = no_signal.ok("evaluate", "--horizon", "30")
    auc, low, high, verdict = _run(no_signal)
    # The drift is there: the scores judged rise with the calendar ...
    means = [m for _, m in no_signal.query(
        """SELECT h.day, avg(h.score)::float8 FROM marts.health_scores h
           JOIN marts.evaluation_runs r ON h.config_version = r.config_version
           WHERE h.day BETWEEN r.first_reference AND r.last_reference GROUP BY 1 ORDER BY 1""")]
    assert len(means) >= 4 and means[-1] > means[0] + 15, means
    # ... and judged on calendar reference dates, within each date, it fakes nothing.
    assert low <= 0.5 <= high, verdict
    assert verdict.startswith("No significant signal") and "interval includes 0.5" in verdict and verdict in out


def test_without_signal_fit_scorecard_writes_nothing(no_signal):
    assert no_signal.query("SELECT count(*) FROM marts.evaluation_runs") == [(1,)], "the evaluation test runs first"
    fit = no_signal.cli("fit-scorecard", "--out", str(no_signal.fitted), "--horizon", "30")
    assert fit.returncode == 1, fit.stderr[-3000:]
    assert "No significant signal to fit at 30 days" in fit.stdout and "nothing written" in fit.stdout
    assert not no_signal.fitted.exists()
