-- Fold the per-event rollups of first_day .. last_day into each account's
-- first and last day per event name (the days_since state of the daily path).
INSERT INTO intermediate.account_event_state AS s (account_id, event_name, first_day, last_day)
SELECT account_id, event_name, min(day), max(day)
FROM intermediate.account_day_events
WHERE day BETWEEN %(first_day)s::date AND %(last_day)s::date
GROUP BY account_id, event_name
ON CONFLICT (account_id, event_name) DO UPDATE
SET first_day = least(s.first_day, excluded.first_day),
    last_day  = greatest(s.last_day, excluded.last_day);

INSERT INTO intermediate.account_event_state_through AS t (through) VALUES (%(last_day)s::date)
ON CONFLICT (only_row) DO UPDATE SET through = greatest(t.through, excluded.through);

ANALYZE intermediate.account_event_state;
