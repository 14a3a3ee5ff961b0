-- The review tool compares on the latest day with KPIs unless told a day.
SELECT max(day) AS day FROM marts.account_daily_kpis
