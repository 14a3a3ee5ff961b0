-- The streams the quality gate marked stale for a day, as the gate step recorded
-- them; the score step reads them instead of judging the feeds a second time.
-- Parameters: day.
SELECT stream, stale, reason, last_data_at, rows_on_day, rows_trailing_avg::float8 AS rows_trailing_avg
FROM meta.source_quality
WHERE day = %(day)s::date AND stale
ORDER BY stream
