-- Why did the score move? For one day and config version: the change against
-- 1, 7 and 30 days earlier, split by measure (the parts add up to the change).
-- Parameters: day, version.
INSERT INTO marts.health_score_changes
    (account_id, day, config_version, horizon_days, measure, contribution_change, raw_before, raw_after)
WITH horizons(horizon_days) AS (VALUES (1), (7), (30)),
pairs AS (
    -- Only accounts scored on both days compare.
    SELECT h.account_id, hz.horizon_days, (%(day)s::date - hz.horizon_days) AS before_day
    FROM marts.health_scores AS h
    CROSS JOIN horizons AS hz
    JOIN marts.health_scores AS b
      ON b.account_id = h.account_id AND b.config_version = h.config_version
     AND b.day = %(day)s::date - hz.horizon_days AND b.score IS NOT NULL
    WHERE h.day = %(day)s::date AND h.config_version = %(version)s::text AND h.score IS NOT NULL
),
before_c AS (
    SELECT p.account_id, p.horizon_days, c.measure, c.contribution, c.raw_value
    FROM pairs AS p
    JOIN marts.health_score_components AS c
      ON c.account_id = p.account_id AND c.day = p.before_day AND c.config_version = %(version)s::text
),
after_c AS (
    SELECT p.account_id, p.horizon_days, c.measure, c.contribution, c.raw_value
    FROM pairs AS p
    JOIN marts.health_score_components AS c
      ON c.account_id = p.account_id AND c.day = %(day)s::date AND c.config_version = %(version)s::text
)
-- A measure only one of the two days had (the scorecard changed) counts in full.
SELECT coalesce(a.account_id, b.account_id), %(day)s::date, %(version)s::text, coalesce(a.horizon_days, b.horizon_days),
       coalesce(a.measure, b.measure),
       coalesce(a.contribution, 0) - coalesce(b.contribution, 0),
       b.raw_value, a.raw_value
FROM after_c AS a
FULL JOIN before_c AS b
  ON b.account_id = a.account_id AND b.horizon_days = a.horizon_days AND b.measure = a.measure;

UPDATE marts.health_scores AS h
SET change_1d = h.score - d1.score, change_7d = h.score - d7.score, change_30d = h.score - d30.score
FROM marts.health_scores AS self
LEFT JOIN marts.health_scores AS d1  ON d1.account_id = self.account_id  AND d1.config_version = self.config_version  AND d1.day = self.day - 1
LEFT JOIN marts.health_scores AS d7  ON d7.account_id = self.account_id  AND d7.config_version = self.config_version  AND d7.day = self.day - 7
LEFT JOIN marts.health_scores AS d30 ON d30.account_id = self.account_id AND d30.config_version = self.config_version AND d30.day = self.day - 30
WHERE self.account_id = h.account_id AND self.day = h.day AND self.config_version = h.config_version
  AND h.day = %(day)s::date AND h.config_version = %(version)s::text;
