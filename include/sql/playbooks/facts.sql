-- What the play conditions test, per account on the day under one scoring and CMI version.
-- Parameters: day, health_version, cmi_version.
SELECT q.account_id, q.quadrant, q.health_band, q.health_score, q.cmi, q.cmi_stale,
       y.band AS band_yesterday, to_jsonb(k) AS kpis
FROM marts.account_quadrants AS q
JOIN marts.account_daily_kpis AS k ON k.account_id = q.account_id AND k.day = q.day
LEFT JOIN marts.health_scores AS y
  ON y.account_id = q.account_id AND y.day = q.day - 1 AND y.config_version = q.health_version
WHERE q.day = %(day)s::date AND q.health_version = %(health_version)s AND q.cmi_version = %(cmi_version)s
