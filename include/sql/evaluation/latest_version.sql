-- The live scorecard version that scored most recently: the one judged unless another is asked for.
-- Candidate versions (backtests) are never live.
SELECT h.config_version
FROM marts.health_scores AS h
JOIN meta.scorecard_versions AS v USING (config_version)
WHERE v.role = 'live'
ORDER BY h.day DESC, h.computed_at DESC, h.config_version
LIMIT 1;
