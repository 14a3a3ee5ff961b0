-- The rows a scorecard is fitted on: every account with KPIs on a reference
-- date that had not churned by then, labelled by a churn within the horizon,
-- with the score of the live version that day (when it exists) for comparison.
-- Parameters: reference_dates (date[]), horizon_days, live_version.
SELECT k.*,
       (c.churn_date IS NOT NULL) AS churned,
       h.score::float8            AS live_score,
       h.scorecard                AS live_scorecard
FROM marts.account_daily_kpis AS k
CROSS JOIN LATERAL (SELECT marts.first_churn_after(k.account_id, k.day, %(horizon_days)s::int) AS churn_date) AS c
LEFT JOIN marts.health_scores AS h
       ON h.account_id = k.account_id AND h.day = k.day AND h.config_version = %(live_version)s
WHERE k.day = ANY (%(reference_dates)s::date[])
  AND NOT marts.churned_by(k.account_id, k.day)
ORDER BY k.day, k.account_id;
