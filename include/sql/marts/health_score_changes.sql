-- Why did the score move? For each day of first_day .. last_day and one config
-- version: the change against 1, 7 and 30 days earlier, split by measure (the
-- parts add up to the change). Parameters: first_day, last_day, version.
--
-- Runs right after health_scores.sql in the same transaction: the days' own
-- components come from its _components (analysed, in memory), the earlier
-- day's from marts.health_score_components by primary-key lookups
-- (account_id, day, config_version), so the cost follows the day's accounts,
-- never the history. All scores of the range are written before this runs, so
-- a day compares with an earlier day of the same range exactly as day-by-day
-- scoring would. A measure whose contribution and raw value both stayed put
-- explains nothing and gets no row (about two in five of the grid on a usual day).
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

INSERT INTO marts.health_score_changes
    (account_id, day, config_version, horizon_days, measure, contribution_change, raw_before, raw_after)
WITH before_c AS (
    SELECT p.account_id, p.day, p.horizon_days, c.measure, c.contribution, c.raw_value
    FROM _pairs AS p
    CROSS JOIN LATERAL (
        SELECT c.measure, c.contribution, c.raw_value
        FROM marts.health_score_components AS c
        WHERE c.account_id = p.account_id AND c.day = p.before_day AND c.config_version = %(version)s::text
        OFFSET 0) AS c  -- not flattened into a join: the planner read every day's components that way
),
after_c AS (
    -- the contribution exactly as health_scores.sql stored it
    SELECT p.account_id, p.day, p.horizon_days, n.measure, round(n.weight * coalesce(n.value, 0), 4) AS contribution,
           n.raw_value
    FROM _pairs AS p
    JOIN _components AS n ON n.account_id = p.account_id AND n.day = p.day
),
compared AS (
    -- A measure only one of the two days had (the scorecard changed) counts in full.
    SELECT coalesce(a.account_id, b.account_id) AS account_id, coalesce(a.day, b.day) AS day,
           coalesce(a.horizon_days, b.horizon_days) AS horizon_days, coalesce(a.measure, b.measure) AS measure,
           coalesce(a.contribution, 0) - coalesce(b.contribution, 0) AS contribution_change,
           b.raw_value AS raw_before, a.raw_value AS raw_after
    FROM after_c AS a
    FULL JOIN before_c AS b
      ON b.account_id = a.account_id AND b.day = a.day AND b.horizon_days = a.horizon_days AND b.measure = a.measure
)
SELECT account_id, day, %(version)s::text, horizon_days, measure, contribution_change, raw_before, raw_after
FROM compared
WHERE contribution_change <> 0 OR raw_before IS DISTINCT FROM raw_after;

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
WHERE h.account_id = s.account_id AND h.day = s.day AND h.config_version = %(version)s::text;
