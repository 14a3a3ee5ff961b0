-- Feeds the quality gate marked stale on the day: plays that read them do nothing.
-- Parameters: day.
SELECT stream FROM meta.source_quality WHERE day = %(day)s::date AND stale
