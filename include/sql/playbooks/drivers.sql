-- What moved the score in 7 days, for the accounts a task is rendered for
-- (template variable score.top_drivers): the three measures whose contribution
-- moved most, largest first. Read through the view marts.health_score_changes
-- (V095) by account: a few key lookups each, where reading every scored
-- account's changes for the day cost seconds at 20,000 accounts.
-- Parameters: day, health_version, accounts.
SELECT d.account_id,
       jsonb_agg(jsonb_build_object('measure', d.measure, 'change', round(d.contribution_change, 1))
                 ORDER BY abs(d.contribution_change) DESC, d.measure) AS drivers
FROM (SELECT c.account_id, c.measure, c.contribution_change,
             row_number() OVER (PARTITION BY c.account_id
                                ORDER BY abs(c.contribution_change) DESC, c.measure) AS rank
      FROM marts.health_score_changes AS c
      WHERE c.account_id = ANY (%(accounts)s::text[]) AND c.day = %(day)s::date
        AND c.config_version = %(health_version)s AND c.horizon_days = 7) AS d
WHERE d.rank <= 3
GROUP BY d.account_id
