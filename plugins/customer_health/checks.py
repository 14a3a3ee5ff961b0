"""Data-quality checks run after each load, as common-sql check operator arguments.

They run against the whole staging table (a duplicate key or a stale feed is
a problem whichever batch caused it) and fail the task, red in the UI.
"""
from __future__ import annotations

from customer_health.config.sources import ConfiguredStream


def table_checks(configured: ConfiguredStream) -> dict[str, dict[str, str]]:
    stream = configured.stream
    key = ", ".join(stream.key)
    checks = {
        "row_count": {"check_statement": f"COUNT(*) >= {int(configured.checks.min_rows)}"},
        "key_unique": {"check_statement": f"COUNT(*) = COUNT(DISTINCT ({key}))"},
    }
    if configured.checks.freshness_column and configured.checks.freshness_max_age:
        seconds = int(configured.checks.freshness_max_age.total_seconds())
        # Fresh relative to the run's data interval, so a backfill of an old day judges that day.
        checks["fresh"] = {
            "check_statement": (
                f"MAX({configured.checks.freshness_column}) >= "
                f"'{{{{ data_interval_end or dag_run.run_after }}}}'::timestamptz - interval '{seconds} seconds'"
            )
        }
    return checks


def column_checks(configured: ConfiguredStream) -> dict[str, dict]:
    return {k: {"null_check": {"equal_to": 0}} for k in configured.stream.key}
