-- The days the mart has: a new or changed custom KPI is backfilled over all of them.
SELECT min(day) AS first_day, max(day) AS last_day FROM marts.account_daily_kpis
