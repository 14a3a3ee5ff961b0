"""The scoring steps the DAG runs as separate tasks: each commits all it writes or nothing, and runs again alone."""
from __future__ import annotations

import logging
from datetime import date

import pytest

from customer_health.scoring import pipeline
from customer_health.warehouse import config_versions
from tests.helpers import accounts, load_rows

DAY = date(2026, 11, 21)


def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - constant names


def test_a_failed_quadrants_step_keeps_the_scores_and_leaves_no_half_run_and_runs_again_alone(
        warehouse, warehouse_url, monkeypatch, caplog):
    load_rows(warehouse_url, "crm_accounts", accounts("a1", "a2", "a3"))
    versions = pipeline.register_configs(warehouse_url)
    pipeline.build_accounts(DAY, warehouse_url)
    kpis = pipeline.build_kpis(DAY, 0, versions, warehouse_url)
    pipeline.quality_gate(DAY, 0, versions, warehouse_url)
    scored = pipeline.score(DAY, 0, versions, warehouse_url)
    pipeline.cmi(versions, warehouse_url)
    assert kpis.rows == 3 and scored[0].accounts == 3
    scores_before = warehouse.execute("SELECT account_id, score, computed_at FROM marts.health_scores ORDER BY 1").fetchall()

    def broken(*args, **kwargs):
        raise RuntimeError("the connection dropped")

    monkeypatch.setattr(config_versions, "record_scoring_run", broken)
    with pytest.raises(RuntimeError, match="connection dropped"):
        pipeline.quadrants(DAY, 0, versions, warehouse_url)
    # The quadrants were written before the failure, in the same transaction: none is left, nor a run.
    assert count(warehouse, "marts.account_quadrants") == 0 and count(warehouse, "meta.scoring_runs") == 0
    assert warehouse.execute("SELECT account_id, score, computed_at FROM marts.health_scores ORDER BY 1").fetchall() \
        == scores_before, "the scores of the earlier step are kept"

    monkeypatch.undo()
    with caplog.at_level(logging.INFO, logger="customer_health"):
        placed = pipeline.quadrants(DAY, 0, versions, warehouse_url)  # the retry: this step only
    assert sum(placed[DAY].values()) == 3 and count(warehouse, "meta.scoring_runs") == 1
    assert warehouse.execute("SELECT account_id, score, computed_at FROM marts.health_scores ORDER BY 1").fetchall() \
        == scores_before, "retrying the quadrants does not rescore"
    assert any(r.message.startswith("quadrants: ") and "3 rows in" in r.message for r in caplog.records), \
        [r.message for r in caplog.records]


def test_a_run_that_finds_nothing_new_says_so_and_succeeds(warehouse, warehouse_url, caplog):
    load_rows(warehouse_url, "crm_accounts", accounts("a1", "a2"))
    first = pipeline.build_and_score(DAY, warehouse_url=warehouse_url)
    load_rows(warehouse_url, "crm_accounts", accounts("a1", "a2"))  # a rerun of the ingest: the same rows again
    with caplog.at_level(logging.INFO, logger="customer_health"):
        second = pipeline.build_and_score(DAY, warehouse_url=warehouse_url)
    assert [r.bands for r in second] == [r.bands for r in first]
    assert any(f"nothing new since {DAY} was scored" in r.message for r in caplog.records), \
        [r.message for r in caplog.records]
    load_rows(warehouse_url, "crm_accounts", accounts("a3"))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="customer_health"):
        pipeline.build_and_score(DAY, warehouse_url=warehouse_url)
    assert not any("nothing new" in r.message for r in caplog.records)
    assert any("since then: 1 loads (1 rows changed)" in r.message for r in caplog.records), \
        [r.message for r in caplog.records]
