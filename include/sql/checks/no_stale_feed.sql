-- Red when the data-quality gate found a stale feed on the scored day.
-- Parameters: day (the day build_and_score scored last).
SELECT count(*) = 0 AS no_stale_feed
FROM meta.source_quality
WHERE stale AND day = %(day)s::date
