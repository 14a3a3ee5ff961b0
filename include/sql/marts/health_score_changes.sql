-- Why did the score move? For each day of first_day .. last_day and one config
-- version: the change against 1, 7 and 30 days earlier, split by measure (the
-- parts add up to the change). Parameters: first_day, last_day, version.
-- Runs after all scores of the range are written, so a day of the range
-- compares with an earlier day of the same range exactly as day-by-day scoring
-- would. Every read of an earlier day is a primary-key lookup
-- (account_id, day, config_version), whatever the history.
INSERT INTO marts.health_score_changes
    (account_id, day, config_version, horizon_days, measure, contribution_change, raw_before, raw_after)
WITH horizons(horizon_days) AS (VALUES (1), (7), (30)),
pairs AS (
    -- Only accounts scored on both days compare.
    SELECT h.account_id, h.day, hz.horizon_days, (h.day - hz.horizon_days) AS before_day
    FROM marts.health_scores AS h
    CROSS JOIN horizons AS hz
    JOIN marts.health_scores AS b
      ON b.account_id = h.account_id AND b.config_version = h.config_version
     AND b.day = h.day - hz.horizon_days AND b.score IS NOT NULL
    WHERE h.day BETWEEN %(first_day)s::date AND %(last_day)s::date AND h.config_version = %(version)s::text
      AND h.score IS NOT NULL
),
before_c AS (
    SELECT p.account_id, p.day, p.horizon_days, c.measure, c.contribution, c.raw_value
    FROM pairs AS p
    JOIN marts.health_score_components AS c
      ON c.account_id = p.account_id AND c.day = p.before_day AND c.config_version = %(version)s::text
),
after_c AS (
    SELECT p.account_id, p.day, p.horizon_days, c.measure, c.contribution, c.raw_value
    FROM pairs AS p
    JOIN marts.health_score_components AS c
      ON c.account_id = p.account_id AND c.day = p.day AND c.config_version = %(version)s::text
)
-- A measure only one of the two days had (the scorecard changed) counts in full.
SELECT coalesce(a.account_id, b.account_id), coalesce(a.day, b.day), %(version)s::text,
       coalesce(a.horizon_days, b.horizon_days), coalesce(a.measure, b.measure),
       coalesce(a.contribution, 0) - coalesce(b.contribution, 0),
       b.raw_value, a.raw_value
FROM after_c AS a
FULL JOIN before_c AS b
  ON b.account_id = a.account_id AND b.day = a.day AND b.horizon_days = a.horizon_days AND b.measure = a.measure;

-- change_1d / 7d / 30d: three key lookups per row, never a join the planner
-- could turn into nested loops over the day's accounts.
UPDATE marts.health_scores AS h
SET change_1d  = h.score - (SELECT b.score FROM marts.health_scores AS b
                            WHERE b.account_id = h.account_id AND b.day = h.day - 1 AND b.config_version = h.config_version),
    change_7d  = h.score - (SELECT b.score FROM marts.health_scores AS b
                            WHERE b.account_id = h.account_id AND b.day = h.day - 7 AND b.config_version = h.config_version),
    change_30d = h.score - (SELECT b.score FROM marts.health_scores AS b
                            WHERE b.account_id = h.account_id AND b.day = h.day - 30 AND b.config_version = h.config_version)
WHERE h.day BETWEEN %(first_day)s::date AND %(last_day)s::date AND h.config_version = %(version)s::text;
