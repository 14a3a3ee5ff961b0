-- Whether the per-user event rollup has nothing yet (the first build after a
-- distinct users KPI was declared): then it is rolled up from the first event.
SELECT NOT EXISTS (SELECT 1 FROM intermediate.account_day_user_events) AS empty
