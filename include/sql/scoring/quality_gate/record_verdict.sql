-- The gate's verdict for one stream and day; the scoring SQL reads it to carry
-- a stale feed's last good values. A rerun of the day replaces the verdict.
INSERT INTO meta.source_quality (day, stream, stale, reason, last_data_at, last_loaded_at, rows_on_day, rows_trailing_avg)
VALUES (%(day)s, %(stream)s, %(stale)s, %(reason)s, %(last_data_at)s, %(last_loaded_at)s, %(rows_on_day)s,
        %(rows_trailing_avg)s)
ON CONFLICT (day, stream) DO UPDATE
SET stale = EXCLUDED.stale, reason = EXCLUDED.reason, last_data_at = EXCLUDED.last_data_at,
    last_loaded_at = EXCLUDED.last_loaded_at, rows_on_day = EXCLUDED.rows_on_day,
    rows_trailing_avg = EXCLUDED.rows_trailing_avg, checked_at = now()
