-- kpis.yml declares no custom KPI: the per-event rollup and the days_since
-- state are not kept (cheap on empty tables, which is the usual case).
DELETE FROM intermediate.account_day_events;

DELETE FROM intermediate.account_event_state;

DELETE FROM intermediate.account_event_state_through;
