"""Where the project's SQL and YAML live.

``include/`` sits next to ``plugins/`` in the repo and in the Airflow image;
``CUSTOMER_HEALTH_INCLUDE`` points elsewhere (tests use it for a scratch copy).
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def include_dir() -> Path:
    return Path(os.environ.get("CUSTOMER_HEALTH_INCLUDE", REPO_ROOT / "include"))


def sql_dir() -> Path:
    return include_dir() / "sql"


def config_dir() -> Path:
    return include_dir() / "config"


def read_sql(relative: str) -> str:
    """Text of a file under ``include/sql``; a missing file names the path it looked for."""
    path = sql_dir() / relative
    if not path.is_file():
        raise FileNotFoundError(f"SQL file not found: {path}")
    return path.read_text(encoding="utf-8")
