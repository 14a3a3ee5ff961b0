-- Each account's best score in the days before the day (the score_drop condition's baseline).
-- Parameters: day, health_version, within_days.
SELECT account_id, max(score) AS best_score
FROM marts.health_scores
WHERE config_version = %(health_version)s
  AND day >= %(day)s::date - %(within_days)s::int AND day < %(day)s::date
  AND score IS NOT NULL
GROUP BY account_id
