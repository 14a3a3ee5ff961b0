-- Give every event name seen between first_day and last_day (UTC days) its bit
-- in account_day_activity.feature_bits, if it has none yet. Bits are handed out
-- in order of first appearance and never change, so rebuilding old days keeps
-- the same bits. The CHECK on bit (0-62) fails the build on the 64th name.
-- Parameters: first_day, last_day.

DROP TABLE IF EXISTS _seen_event_names;

-- A plain SELECT (not inside the INSERT) so Postgres may scan in parallel.
CREATE TEMP TABLE _seen_event_names ON COMMIT DROP AS
SELECT e.event_name, min(e.occurred_at) AS first_at
FROM staging.usage_events AS e
WHERE e.occurred_at >= %(first_day)s::date::timestamp AT TIME ZONE 'UTC'
  AND e.occurred_at <  (%(last_day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
GROUP BY e.event_name;

INSERT INTO intermediate.event_names (event_name, bit, first_seen_on)
WITH new_names AS (
    SELECT s.event_name, s.first_at
    FROM _seen_event_names AS s
    WHERE NOT EXISTS (SELECT 1 FROM intermediate.event_names AS n WHERE n.event_name = s.event_name)
),
numbered AS (
    SELECT nn.event_name, nn.first_at,
           (SELECT coalesce(max(n.bit), -1) FROM intermediate.event_names AS n)
             + row_number() OVER (ORDER BY nn.first_at, nn.event_name) AS bit
    FROM new_names AS nn
)
SELECT event_name, bit, (first_at AT TIME ZONE 'UTC')::date
FROM numbered;
