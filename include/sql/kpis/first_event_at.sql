-- A rebuild rolls up every day from the first event on, since milestones and
-- the last login read all of history, not just the KPI window.
SELECT min(occurred_at) AS first_event_at FROM staging.usage_events
