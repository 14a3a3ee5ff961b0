"""Small helpers the tests share: load rows through the real loader without an extractor."""
from __future__ import annotations

import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from customer_health.contracts.streams import STREAMS
from customer_health.sources.base import Spool
from customer_health.warehouse.loader import BatchResult, load_batch, new_batch_id


# A value written as a quoted empty string (""), as a database writes an empty
# text; Python's csv writes '' and None alike, as an empty field (null).
EMPTY_TEXT = "<empty text>"


def load_rows(url: str, stream: str, rows: list[dict], *, source: str = "test", cursor: str | None = None,
              keep_raw: bool = True, source_types: dict[str, str] | None = None, complete: bool = False,
              observed_at=None) -> BatchResult:
    """Load rows through the real loader; ``source_types`` makes the spool say a database typed them,
    ``complete`` that the rows are a full snapshot of the stream, ``observed_at`` when it was taken."""
    with psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC") as conn:
        batch_id = new_batch_id(conn)
        conn.autocommit = False
        with tempfile.TemporaryDirectory() as tmp:
            spool = Spool(Path(tmp) / "batch.csv", source, batch_id, STREAMS[stream])
            # Typed values come from a database's COPY output, which carries no per-record annotations.
            spool.annotated = source_types is None
            for row in rows:
                spool.write(row, cursor=cursor)
            spool.close()
            spool.path.write_text(spool.path.read_text(encoding="utf-8").replace(f",{EMPTY_TEXT},", ',"",'),
                                  encoding="utf-8")
            spool.source_types = source_types
            spool.complete, spool.observed_at = complete, observed_at
            return load_batch(conn, spool, keep_raw=keep_raw)


def include_with(tmp_path: Path, monkeypatch, *, scorecards: str, kpis_declarations: str) -> Path:
    """A copy of include/ that the code under test reads (CUSTOMER_HEALTH_INCLUDE), with these scorecards
    and the shipped kpis.yml plus these declarations: a team's config change, made by YAML alone."""
    import shutil  # noqa: PLC0415

    from demo.localenv import REPO_ROOT  # noqa: PLC0415

    include = tmp_path / "include"
    shutil.copytree(REPO_ROOT / "include", include)
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))
    (include / "config" / "scorecards.yml").write_text(scorecards, encoding="utf-8")
    kpis_yml = include / "config" / "kpis.yml"
    kpis_yml.write_text(kpis_yml.read_text(encoding="utf-8") + kpis_declarations, encoding="utf-8")
    return include


# Everything the KPI build writes from the events: after a TRUNCATE of these a rebuild starts from
# staging alone, as on a first run (the daily-vs-rebuild tests compare the two whole).
KPI_BUILD_TABLES = ("marts.account_daily_kpis", "intermediate.account_day_activity", "intermediate.user_day_activity",
                    "intermediate.account_day_state", "intermediate.rolled_up_days",
                    "intermediate.account_day_events", "intermediate.account_event_state",
                    "intermediate.account_day_user_events")


def forget_kpis(conn) -> None:
    """Empty every table the KPI build writes (KPI_BUILD_TABLES)."""
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(
        sql.Identifier(*name.split(".")) for name in KPI_BUILD_TABLES)))


def accounts(*ids: str) -> list[dict]:
    return [{"account_id": i, "name": f"Account {i}", "employees": "50", "created_at": "2026-01-01"} for i in ids]


def table(conn, query: str, params=None) -> list[tuple]:
    return conn.execute(query, params).fetchall()


def truncate_warehouse(url: str) -> None:
    """Every table emptied, and the mart back to its migrated columns: a custom KPI column a test's
    kpis.yml added (``custom_kpis``) would otherwise outlive that test and reach the next one."""
    from customer_health.contracts.kpi_catalog import ALL_KPIS  # noqa: PLC0415

    migrated = set(ALL_KPIS) | {"account_id", "day", "nps_latest_at", "csm_sentiment_at"}
    with psycopg.connect(url, autocommit=True) as conn:
        for (column,) in conn.execute(
                """SELECT column_name FROM information_schema.columns
                   WHERE table_schema = 'marts' AND table_name = 'account_daily_kpis'""").fetchall():
            if column not in migrated:
                conn.execute(sql.SQL("ALTER TABLE marts.account_daily_kpis DROP COLUMN {}").format(
                    sql.Identifier(column)))
        tables = [
            sql.Identifier(schema, name)
            for schema, name in conn.execute(
                """SELECT schemaname, tablename FROM pg_tables
                   WHERE schemaname IN ('raw', 'staging', 'history', 'intermediate', 'marts', 'meta')
                     AND tablename <> 'schema_migrations'"""
            )
        ]
        if tables:
            conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(sql.SQL(", ").join(tables)))
