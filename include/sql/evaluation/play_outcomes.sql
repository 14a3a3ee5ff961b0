-- Every task old enough to judge: was its account still there after_days later, and how did
-- its score move? Treated (delivered) and held-out tasks alike.
-- Parameters: after_days, as_of, config_version.
SELECT t.play, t.account_id, t.day, t.held_out,
       marts.first_churn_after(t.account_id, t.day, %(after_days)s::int) IS NOT NULL AS churned,
       (s_after.score - s_before.score)::float8 AS score_change
FROM marts.csm_tasks AS t
LEFT JOIN marts.health_scores AS s_before
       ON s_before.account_id = t.account_id AND s_before.day = t.day AND s_before.config_version = %(config_version)s
LEFT JOIN marts.health_scores AS s_after
       ON s_after.account_id = t.account_id AND s_after.day = t.day + %(after_days)s::int
      AND s_after.config_version = %(config_version)s
WHERE t.day + %(after_days)s::int <= %(as_of)s::date
ORDER BY t.play, t.day, t.account_id;
