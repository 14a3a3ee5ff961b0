-- The days_since state from every per-event rollup (a rebuild: set-based, once).
DELETE FROM intermediate.account_event_state;

INSERT INTO intermediate.account_event_state (account_id, event_name, first_day, last_day)
SELECT account_id, event_name, min(day), max(day)
FROM intermediate.account_day_events
GROUP BY account_id, event_name;

DELETE FROM intermediate.account_event_state_through;

INSERT INTO intermediate.account_event_state_through (through)
SELECT max(day) FROM intermediate.account_day_events HAVING max(day) IS NOT NULL;

ANALYZE intermediate.account_event_state;
