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
-- whole day of all three horizons about 5 s at 20,000 accounts: read it by account.
--
-- Same columns and contract as the table: only accounts scored (with a
-- number) on both days compare; a measure only one of the two days had (the
-- scorecard changed) counts in full; a measure whose contribution did not
-- move has no row (V080); per account, day and horizon the rows add up to the
-- score's change.
DROP TABLE marts.health_score_changes;

CREATE VIEW marts.health_score_changes AS
SELECT h.account_id, h.day, h.config_version, hz.horizon_days, m.measure,
       m.contribution_change, m.raw_before, m.raw_after
FROM marts.health_scores AS h
CROSS JOIN (VALUES (1), (7), (30)) AS hz(horizon_days)
JOIN marts.health_scores AS b
  ON b.account_id = h.account_id AND b.day = h.day - hz.horizon_days AND b.config_version = h.config_version
 AND b.score IS NOT NULL
-- Per pair of scores, the two days' components by key lookups: the plan does
-- not hinge on whether the statistics know the newest day yet (joined as
-- tables, a day missing from them was taken for one row and 190,000
-- components were probed one by one: 21 s for 300 accounts).
CROSS JOIN LATERAL (
    SELECT x.measure,
           (coalesce(sum(x.contribution_after), 0) - coalesce(sum(x.contribution_before), 0))::numeric(7, 4)
               AS contribution_change,
           max(x.raw_before) AS raw_before, max(x.raw_after) AS raw_after
    FROM (SELECT c.measure, c.contribution AS contribution_after, NULL::numeric AS contribution_before,
                 NULL::numeric AS raw_before, c.raw_value AS raw_after
          FROM marts.health_score_components AS c
          WHERE c.day = h.day AND c.config_version = h.config_version AND c.account_id = h.account_id
          UNION ALL
          SELECT c.measure, NULL, c.contribution, c.raw_value, NULL
          FROM marts.health_score_components AS c
          WHERE c.day = b.day AND c.config_version = b.config_version AND c.account_id = b.account_id) AS x
    GROUP BY x.measure
) AS m
WHERE h.score IS NOT NULL AND m.contribution_change <> 0;

COMMENT ON VIEW marts.health_score_changes IS
    'Which measures moved the score, by how many points, against 1, 7 and 30 days earlier: one row per measure whose '
    'contribution changed (a measure that did not move has no row); per account, day and horizon they add up to the '
    'change. Derived from marts.health_score_components on read (V095): filter by account_id and day.';
