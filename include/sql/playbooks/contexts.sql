-- Template variables per scored account: who it is and who owns it (marts.accounts
-- as of the day), its score, its maturity. What moved the score comes from
-- drivers.sql, for the accounts a task is rendered for only.
-- Parameters: day, health_version.
SELECT a.account_id, a.name, a.industry, a.region, a.employees, a.lifecycle_stage, a.arr, a.renewal_date,
       a.csm_owner_id, a.csm_email, a.csm_name,
       h.score, h.band, h.change_7d, h.change_30d, h.scorecard,
       q.cmi, q.cmi_assessed_at::date AS cmi_assessed_on, q.cmi_stale, q.quadrant
FROM marts.accounts_as_of(%(day)s::date) AS a
JOIN marts.health_scores AS h
  ON h.account_id = a.account_id AND h.day = %(day)s::date AND h.config_version = %(health_version)s
JOIN marts.account_quadrants AS q
  ON q.account_id = a.account_id AND q.day = %(day)s::date AND q.health_version = %(health_version)s
