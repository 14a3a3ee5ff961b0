-- Per-event-name rollup of the UTC days first_day .. last_day (custom KPIs of
-- kpis.yml), each day rewritten whole. One statement for a day and for a range:
-- one read of those days' events through the occurred_at index (or one scan of
-- a long range), grouped once by day, account and event name. ANALYZEd, as the
-- next statements read it (autovacuum is not relied on).

DELETE FROM intermediate.account_day_events
WHERE day BETWEEN %(first_day)s::date AND %(last_day)s::date;

INSERT INTO intermediate.account_day_events (day, account_id, event_name, events, duration_seconds)
SELECT (e.occurred_at AT TIME ZONE 'UTC')::date, e.account_id, e.event_name,
       count(*)::int, coalesce(sum(e.duration_seconds), 0)
FROM staging.usage_events AS e
WHERE e.occurred_at >= (%(first_day)s::date::timestamp AT TIME ZONE 'UTC')
  AND e.occurred_at < ((%(last_day)s::date + 1)::timestamp AT TIME ZONE 'UTC')
GROUP BY 1, 2, 3;

ANALYZE intermediate.account_day_events;
