-- For each numeric KPI column named in the select list: whether it held one
-- value (or only NULLs) for every account over the last 30 days of the mart,
-- so it cannot tell accounts apart. The list is generated (one min = max test
-- per column) by the validate-config command.
SELECT {constant_tests}
FROM marts.account_daily_kpis
WHERE day > (SELECT max(day) FROM marts.account_daily_kpis) - 30
