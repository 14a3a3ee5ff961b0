-- The latest event (the custom KPI benchmark's last day when the mart is empty).
SELECT max(occurred_at) AS last_event_at FROM staging.usage_events
