-- marts.health_score_changes holds only the measures whose contribution moved.
-- Its readers (the CSM task drivers of playbooks/contexts.sql, the demo's
-- biggest movers) rank measures by how far they moved the score and skip the
-- ones that did not; a row whose raw value changed while its contribution
-- stayed put (a threshold already saturated, a percentile rank unchanged)
-- explained nothing and was about a third of the day's rows at 20,000 accounts.
-- The rows of an account, day and horizon still add up to the score change.
COMMENT ON TABLE marts.health_score_changes IS
    'Which measures moved the score, by how many points, against 1, 7 and 30 days earlier: one row per measure whose '
    'contribution changed (contribution_change <> 0; a measure that did not move has no row); per account, day and '
    'horizon they add up to the change.';
