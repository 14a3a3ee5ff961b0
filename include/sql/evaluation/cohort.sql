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
CROSS JOIN LATERAL (SELECT marts.first_churn_after(h.account_id, h.day, %(horizon_days)s::int) AS churn_date) AS c
WHERE h.config_version = %(config_version)s
  AND h.day = ANY (%(reference_dates)s::date[])
  AND NOT marts.churned_by(h.account_id, h.day)
ORDER BY h.day, h.account_id;
