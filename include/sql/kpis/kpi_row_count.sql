-- KPI rows the build wrote for its days, for the run's log and return value.
SELECT count(*) AS kpi_rows FROM marts.account_daily_kpis WHERE day BETWEEN %(start)s AND %(end)s
