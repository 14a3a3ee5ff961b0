"""Apply the versioned SQL files in ``include/sql/migrations`` in order, once each.

``V<number>__<what>.sql`` files run in number order inside one transaction
each, recorded in ``meta.schema_migrations`` with a checksum. An advisory lock
makes concurrent runs (two DAGs starting at once) wait instead of racing.
Editing an applied file is refused: add a new one.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from customer_health.paths import sql_dir
from customer_health.warehouse.sqlfiles import fetch_sql_file, run_sql_file

MIGRATION_FILE = re.compile(r"^V(\d{3,})__([a-z0-9_]+)\.sql$")
_LOCK_KEY = 7_301_001  # arbitrary, constant: "customer_health migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(folder: Path | None = None) -> list[Migration]:
    folder = folder or sql_dir() / "migrations"
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = MIGRATION_FILE.match(path.name)
        if not match:
            raise ValueError(f"{path}: migration files are named V<number>__<lower_snake_name>.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"{folder}: two migration files share a version number")
    return sorted(found, key=lambda m: m.version)


def migrate(conn: psycopg.Connection, folder: Path | None = None) -> list[str]:
    """Apply pending migrations; returns the file names applied (empty when up to date)."""
    migrations = discover(folder)
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])  # allowlisted bookkeeping
        run_sql_file(conn, "warehouse/migrate/bookkeeping_table.sql")
        applied = {r["version"]: r["checksum"] for r in fetch_sql_file(conn, "warehouse/migrate/applied_migrations.sql")}
        for migration in migrations:
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise RuntimeError(
                        f"{migration.path.name} was changed after it was applied; "
                        "migrations are append-only: put the change in a new V<number>__ file"
                    )
                continue
            # A migration runs as one script without parameters (simple protocol), as psql would run it.
            conn.execute(migration.path.read_text(encoding="utf-8"))
            run_sql_file(conn, "warehouse/migrate/record_migration.sql", {
                "version": migration.version, "name": migration.name, "checksum": migration.checksum,
            })
            applied_now.append(migration.path.name)
    return applied_now
