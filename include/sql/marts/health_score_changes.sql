-- Why did the score move? For each day of first_day .. last_day and one config
-- version: the change against 1, 7 and 30 days earlier, split by measure (the
-- parts add up to the change). Parameters: first_day, last_day, version.
--
-- Runs right after health_scores.sql and health_score_pairs.sql in the same
-- transaction: the pairs come from _pairs, the days' own components from
-- _components (analysed, in memory), the earlier day's from
-- marts.health_score_components by primary-key lookups, so the cost follows
-- the day's accounts, never the history. A measure whose contribution stayed
-- put explains nothing and gets no row, even if its raw value moved (V080: the
-- readers rank the measures that moved the score). Candidate versions a
-- backtest scores skip this: nothing reads their explanations.
INSERT INTO marts.health_score_changes
    (account_id, day, config_version, horizon_days, measure, contribution_change, raw_before, raw_after)
WITH before_c AS (
    -- The earlier days' components, read by the days the pairs name (the key
    -- leads with the day, V071): a few days' contiguous rows, hashed, where a
    -- key lookup per pair cost a random read each.
    SELECT p.account_id, p.day, p.horizon_days, c.measure, c.contribution, c.raw_value
    FROM _pairs AS p
    JOIN marts.health_score_components AS c
      ON c.account_id = p.account_id AND c.day = p.before_day AND c.config_version = %(version)s::text
    WHERE c.day = ANY (ARRAY(SELECT DISTINCT before_day FROM _pairs))
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
WHERE contribution_change <> 0
ORDER BY day, account_id, horizon_days, measure;  -- the key's order: each row appends at the index's right edge
