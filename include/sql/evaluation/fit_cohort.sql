-- The rows a scorecard is fitted on: every account with KPIs on a reference
-- date that had not churned by then, labelled by a churn within the horizon,
-- with the score of the live version that day (when it exists) for comparison.
-- Parameters: reference_dates (date[]), horizon_days, live_version.
SELECT k.*,
       (c.churn_date IS NOT NULL) AS churned,
       h.score::float8            AS live_score,
       h.scorecard                AS live_scorecard
FROM marts.account_daily_kpis AS k
LEFT JOIN LATERAL (
    SELECT min(o.outcome_date) AS churn_date
    FROM marts.account_outcomes AS o
    WHERE o.account_id = k.account_id AND o.outcome = 'churned'
      AND o.outcome_date > k.day AND o.outcome_date <= k.day + %(horizon_days)s::int
) AS c ON true
LEFT JOIN marts.health_scores AS h
       ON h.account_id = k.account_id AND h.day = k.day AND h.config_version = %(live_version)s
WHERE k.day = ANY (%(reference_dates)s::date[])
  AND NOT EXISTS (
      SELECT 1 FROM marts.account_outcomes AS p
      WHERE p.account_id = k.account_id AND p.outcome = 'churned' AND p.outcome_date <= k.day
  )
ORDER BY k.day, k.account_id;
