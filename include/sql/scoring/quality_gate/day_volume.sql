-- Rows of an event stream on the day against the average of the same weekday
-- in the four weeks before: weekends are quiet in B2B, so a quiet Saturday is
-- not a broken feed. For the event streams without per-day rollups (surveys,
-- CSM sentiment: small): five weeks read through the stream's event-time index
-- (V045), so the cost follows the window, never the history. Usage events read
-- their rollups instead (day_volume_rollups.sql). Composed with the stream's
-- staging table and its event-time column.
WITH same_weekday AS (
    SELECT {event_time} AS event_time
    FROM {table}
    WHERE {event_time} >= %(start)s - interval '28 days' AND {event_time} < %(end)s
      AND extract(isodow FROM {event_time} AT TIME ZONE 'UTC') = %(weekday)s
)
SELECT count(*) FILTER (WHERE event_time >= %(start)s) AS rows_on_day,
       count(*) FILTER (WHERE event_time < %(start)s) / 4.0 AS rows_trailing_avg
FROM same_weekday
