-- The days the product data covers: the first day with activity rollups and the last day with KPIs.
-- Reference dates lie between them (30 days after the first, so 30-day windows are full).
SELECT (SELECT min(a.day) FROM intermediate.account_day_activity AS a) AS first_day,
       (SELECT max(k.day) FROM marts.account_daily_kpis AS k)          AS last_day;
