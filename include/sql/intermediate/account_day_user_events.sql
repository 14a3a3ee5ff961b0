-- Per-user, per-event-name rollup of the UTC days first_day .. last_day (kpis.yml
-- distinct users KPIs), each day rewritten whole: one read of those days'
-- events through the occurred_at index (one scan of a long range), grouped once.
-- Events without a user count for no one, as in user_day_activity.

DELETE FROM intermediate.account_day_user_events
WHERE day BETWEEN %(first_day)s::date AND %(last_day)s::date;

INSERT INTO intermediate.account_day_user_events (day, account_id, user_id, event_name, events)
SELECT (e.occurred_at AT TIME ZONE 'UTC')::date, e.account_id, e.user_id, e.event_name, count(*)::int
FROM staging.usage_events AS e
WHERE e.occurred_at >= (%(first_day)s::date::timestamp AT TIME ZONE 'UTC')
  AND e.occurred_at < ((%(last_day)s::date + 1)::timestamp AT TIME ZONE 'UTC')
  AND e.user_id IS NOT NULL
GROUP BY 1, 2, 3, 4;

ANALYZE intermediate.account_day_user_events;
