-- The evaluation cohort: at each reference date, every account with a stored
-- score of the version (under any band, insufficient data included) that had
-- not churned by that date is a row, labelled by a churn within the horizon
-- after it. Reference dates come from the calendar, never from the label, so
-- churners and the rest are judged on the same days.
-- Parameters: config_version, reference_dates (date[]), horizon_days.
SELECT h.account_id,
       h.day                            AS reference_date,
       h.scorecard,
       h.score::float8                  AS score,
       h.band,
       (c.churn_date IS NOT NULL)       AS churned,
       c.churn_date,
       k.arr::float8                    AS arr,
       k.days_to_renewal::float8        AS days_to_renewal
FROM marts.health_scores AS h
LEFT JOIN marts.account_daily_kpis AS k
       ON k.account_id = h.account_id AND k.day = h.day
LEFT JOIN LATERAL (
    SELECT min(o.outcome_date) AS churn_date
    FROM marts.account_outcomes AS o
    WHERE o.account_id = h.account_id AND o.outcome = 'churned'
      AND o.outcome_date > h.day AND o.outcome_date <= h.day + %(horizon_days)s::int
) AS c ON true
WHERE h.config_version = %(config_version)s
  AND h.day = ANY (%(reference_dates)s::date[])
  AND NOT EXISTS (
      SELECT 1 FROM marts.account_outcomes AS p
      WHERE p.account_id = h.account_id AND p.outcome = 'churned' AND p.outcome_date <= h.day
  )
ORDER BY h.day, h.account_id;
