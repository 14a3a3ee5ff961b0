-- One days_since KPI of one new day from the carried-forward state (first and
-- last day per account and event name): no history is read.
SELECT account_id, %(end)s::date AS day, (%(end)s::date - {pick}({state_day}))::double precision AS v
FROM intermediate.account_event_state
WHERE {filter}
GROUP BY account_id
