-- Each scorecard measure's 0-100 value and raw KPI value on the cohort's rows.
-- Parameters: config_version, reference_dates (date[]).
SELECT c.account_id, c.day AS reference_date, c.scorecard, c.measure, c.kpi,
       c.value::float8 AS measure_score, c.raw_value::float8 AS raw_value, c.state
FROM marts.health_score_components AS c
WHERE c.config_version = %(config_version)s
  AND c.day = ANY (%(reference_dates)s::date[])
ORDER BY c.day, c.account_id, c.measure;
