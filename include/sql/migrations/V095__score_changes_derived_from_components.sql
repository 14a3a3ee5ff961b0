-- marts.health_score_changes becomes a view over the components it was copied from.
--
-- Every row of the table was a difference of two rows of
-- marts.health_score_components (the day's and the one 1, 7 or 30 days
-- before). Storing it cost the daily scoring more than anything else (2.7 s
-- of a day at 20,000 accounts, 330,000 rows a day, as large as the components
-- themselves), and a backtest's candidate scores had none. Derived on read,
-- it is the same rows (checked on 20,000 accounts x 31 days before the
-- switch), exists for every scored version, and cannot disagree with the
-- components. Reading one account and day is a few key lookups (0.2 ms); a
-- whole day of one horizon about 1.4 s at 20,000 accounts.
--
-- Same columns and contract as the table: only accounts scored (with a
-- number) on both days compare; a measure only one of the two days had (the
-- scorecard changed) counts in full; a measure whose contribution did not
-- move has no row (V080); per account, day and horizon the rows add up to the
-- score's change.
DROP TABLE marts.health_score_changes;

CREATE VIEW marts.health_score_changes AS
WITH pairs AS NOT MATERIALIZED (
    -- Not materialized: a reader's account and day reach the key lookups below.
    SELECT h.account_id, h.day, h.config_version, hz.horizon_days, b.day AS before_day
    FROM marts.health_scores AS h
    CROSS JOIN (VALUES (1), (7), (30)) AS hz(horizon_days)
    JOIN marts.health_scores AS b
      ON b.account_id = h.account_id AND b.day = h.day - hz.horizon_days AND b.config_version = h.config_version
    WHERE h.score IS NOT NULL AND b.score IS NOT NULL
),
compared AS (
    -- Measures of the day, against the same measure of the earlier day (if it had it) ...
    SELECT p.account_id, p.day, p.config_version, p.horizon_days, n.measure,
           n.contribution - coalesce(e.contribution, 0) AS contribution_change,
           e.raw_value AS raw_before, n.raw_value AS raw_after
    FROM pairs AS p
    JOIN marts.health_score_components AS n
      ON n.day = p.day AND n.config_version = p.config_version AND n.account_id = p.account_id
    LEFT JOIN marts.health_score_components AS e
      ON e.day = p.before_day AND e.config_version = p.config_version AND e.account_id = p.account_id
     AND e.measure = n.measure
    UNION ALL
    -- ... and the measures only the earlier day had.
    SELECT p.account_id, p.day, p.config_version, p.horizon_days, e.measure,
           -e.contribution, e.raw_value, NULL
    FROM pairs AS p
    JOIN marts.health_score_components AS e
      ON e.day = p.before_day AND e.config_version = p.config_version AND e.account_id = p.account_id
    WHERE NOT EXISTS (SELECT 1
                      FROM marts.health_score_components AS n
                      WHERE n.day = p.day AND n.config_version = p.config_version
                        AND n.account_id = p.account_id AND n.measure = e.measure)
)
SELECT account_id, day, config_version, horizon_days, measure, contribution_change, raw_before, raw_after
FROM compared
WHERE contribution_change <> 0;

COMMENT ON VIEW marts.health_score_changes IS
    'Which measures moved the score, by how many points, against 1, 7 and 30 days earlier: one row per measure whose '
    'contribution changed (a measure that did not move has no row); per account, day and horizon they add up to the '
    'change. Derived from marts.health_score_components on read (V095): filter by account_id and day.';
