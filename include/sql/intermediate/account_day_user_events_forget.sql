-- No KPI counts distinct users: the per-user event rollup is not kept (a KPI
-- declared later finds it empty and rolls up all history once, not a gap).
DELETE FROM intermediate.account_day_user_events
