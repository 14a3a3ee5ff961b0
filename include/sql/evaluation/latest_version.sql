-- The scorecard version that scored most recently: the live one, unless another is asked for.
SELECT h.config_version
FROM marts.health_scores AS h
ORDER BY h.day DESC, h.computed_at DESC, h.config_version
LIMIT 1;
