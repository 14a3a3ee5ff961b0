-- The day's score against 1, 7 and 30 days earlier, for each day of
-- first_day .. last_day and one config version: change_1d / 7d / 30d of
-- marts.health_scores, and the pairs (_pairs) health_score_changes.sql splits
-- by measure. Parameters: first_day, last_day, version.
--
-- Runs after all scores of the range are written, so a day compares with an
-- earlier day of the same range exactly as day-by-day scoring would. Every
-- read of an earlier day is a primary-key lookup (account_id, day,
-- config_version), whatever the history.
DROP TABLE IF EXISTS pg_temp._pairs;

-- Only accounts scored (with a number) on both days compare.
CREATE TEMP TABLE _pairs ON COMMIT DROP AS
SELECT h.account_id, h.day, hz.horizon_days, b.day AS before_day, h.score, b.score AS score_before
FROM marts.health_scores AS h
CROSS JOIN (VALUES (1), (7), (30)) AS hz(horizon_days)
CROSS JOIN LATERAL (
    SELECT b.day, b.score
    FROM marts.health_scores AS b
    WHERE b.account_id = h.account_id AND b.day = h.day - hz.horizon_days AND b.config_version = h.config_version
      AND b.score IS NOT NULL
    OFFSET 0) AS b
WHERE h.day BETWEEN %(first_day)s::date AND %(last_day)s::date AND h.config_version = %(version)s::text
  AND h.score IS NOT NULL;
ANALYZE _pairs;

-- change_1d / 7d / 30d from the same pairs: a key lookup per scored row.
-- Rows without a partner keep NULL, as they were inserted.
UPDATE marts.health_scores AS h
SET change_1d = h.score - s.before_1d, change_7d = h.score - s.before_7d, change_30d = h.score - s.before_30d
FROM (SELECT account_id, day,
             max(score_before) FILTER (WHERE horizon_days = 1) AS before_1d,
             max(score_before) FILTER (WHERE horizon_days = 7) AS before_7d,
             max(score_before) FILTER (WHERE horizon_days = 30) AS before_30d
      FROM _pairs
      GROUP BY account_id, day) AS s
WHERE h.account_id = s.account_id AND h.day = s.day AND h.config_version = %(version)s::text
  -- the range again, though the pairs hold only its days: without it the planner read every day of the version
  AND h.day BETWEEN %(first_day)s::date AND %(last_day)s::date;
