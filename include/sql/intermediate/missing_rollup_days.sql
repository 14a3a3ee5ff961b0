-- The first day before `day` that has events but no rollup: the first run ever,
-- a daily run that did not happen, or events that arrived after their day was
-- built empty. NULL when the rollups are complete. The days with events are
-- found by hopping through the occurred_at index (one probe per day), not by
-- reading the events; the days with rollups are recorded by the build
-- (intermediate.rolled_up_days), not found by a DISTINCT over the rollups.
-- Parameters: day.
WITH RECURSIVE event_days AS (
    SELECT (min(e.occurred_at) AT TIME ZONE 'UTC')::date AS day
    FROM staging.usage_events AS e
    UNION ALL
    SELECT (SELECT (min(e.occurred_at) AT TIME ZONE 'UTC')::date
            FROM staging.usage_events AS e
            WHERE e.occurred_at >= (d.day + 1)::timestamp AT TIME ZONE 'UTC')
    FROM event_days AS d
    WHERE d.day < %(day)s::date
)
SELECT min(e.day) AS first_missing_day
FROM event_days AS e
WHERE e.day < %(day)s::date
  AND NOT EXISTS (SELECT 1 FROM intermediate.rolled_up_days AS r WHERE r.day = e.day)
