-- How many accounts landed in each band: what the run logs and the CLI prints.
SELECT band, count(*) AS accounts
FROM marts.health_scores
WHERE day = %(day)s AND config_version = %(version)s
GROUP BY band
ORDER BY band
