-- Every KPI of the cohort's account-days, whether or not a scorecard uses it:
-- the evaluation reports which carry signal. Parameters: reference_dates (date[]).
SELECT k.*
FROM marts.account_daily_kpis AS k
WHERE k.day = ANY (%(reference_dates)s::date[])
ORDER BY k.day, k.account_id;
