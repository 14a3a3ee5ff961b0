-- The columns marts.account_daily_kpis has now (custom KPIs appear after their first build).
SELECT column_name AS name FROM information_schema.columns
WHERE table_schema = 'marts' AND table_name = 'account_daily_kpis'
