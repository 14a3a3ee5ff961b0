-- Custom KPI values (kpis.yml kinds) of the mart rows of start .. end, for the
-- columns named in the SET list. Generated from the declarations by
-- custom_kpis.py: one CTE w for every KPI that reads the rollups (windows.sql),
-- one per days_since KPI of a new day read from the state (days_since_state.sql),
-- per distinct users / features KPI (distinct_keys.sql), per survey
-- (survey.sql), one for the CRM account (crm_accounts.sql) and one for the
-- contracts (contracts.sql) known on each day, then one UPDATE that sets every
-- column at once (ratios and changes are expressions over them and the
-- standard columns of the row).
-- Event filters arrive as bind parameters, names as identifiers.
WITH target AS MATERIALIZED (
    SELECT account_id, day FROM marts.account_daily_kpis
    WHERE day BETWEEN %(start)s::date AND %(end)s::date
){sources}
UPDATE marts.account_daily_kpis AS m
SET {assignments}
FROM (
    SELECT t.account_id, t.day{values}
    FROM marts.account_daily_kpis AS t{joins}
    WHERE t.day BETWEEN %(start)s::date AND %(end)s::date
) AS x
WHERE m.account_id = x.account_id AND m.day = x.day
