-- Which of the given days have KPI rows. Parameters: days (date[]).
SELECT DISTINCT k.day FROM marts.account_daily_kpis AS k WHERE k.day = ANY (%(days)s::date[]) ORDER BY k.day;
