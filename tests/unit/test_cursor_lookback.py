"""The cursor an extraction starts from: lookback before the stored one, in the stored one's style."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from customer_health.contracts.streams import STREAMS
from customer_health.sources.base import Spool, looked_back


@pytest.mark.parametrize(("stored", "lookback", "expected"), [
    ("2026-11-01T10:00:00Z", timedelta(hours=6), "2026-11-01T04:00:00Z"),             # Typeform: seconds, Z
    ("2026-11-01T10:00:00.000Z", timedelta(days=1), "2026-10-31T10:00:00.000000Z"),    # HubSpot
    ("2026-11-01T10:00:00.123456", timedelta(minutes=30), "2026-11-01T09:30:00.123456"),  # product database
    ("2026-11-01T10:00:00+02:00", timedelta(0), "2026-11-01T10:00:00+02:00"),         # no lookback: untouched
    (None, timedelta(days=1), None),                                                   # first run: everything
])
def test_lookback_moves_the_start_back_in_the_cursors_own_style(stored, lookback, expected):
    assert looked_back(stored, lookback) == expected


def test_lookback_on_a_cursor_that_is_not_a_time_says_so():
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        looked_back("accounts_20261101.csv", timedelta(hours=1))


def test_a_cursor_beyond_the_limit_never_moves_the_spool_cursor(tmp_path):
    spool = Spool(tmp_path / "s.csv", "src", 1, STREAMS["usage_events"],
                  cursor_limit=datetime(2026, 12, 3, tzinfo=UTC))
    for value in ("2026-11-01T10:00:00Z", "2031-01-01T00:00:00Z", "2026-11-02T10:00:00Z"):
        spool.advance_cursor(value)
    spool.close()
    assert spool.cursor == "2026-11-02T10:00:00Z"
    assert spool.notes == ["1 record(s) carry a cursor time beyond 2026-12-03 00:00 UTC (the future tolerance): "
                           "the cursor ignores them"]
