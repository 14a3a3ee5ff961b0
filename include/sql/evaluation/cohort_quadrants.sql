-- The health x maturity quadrant of the cohort's account-days, under the
-- scorecard version being evaluated (the latest CMI version that day).
-- Parameters: config_version, reference_dates (date[]).
SELECT DISTINCT ON (q.account_id, q.day) q.account_id, q.day AS reference_date, q.quadrant
FROM marts.account_quadrants AS q
WHERE q.health_version = %(config_version)s
  AND q.day = ANY (%(reference_dates)s::date[])
ORDER BY q.account_id, q.day, q.cmi_version DESC;
