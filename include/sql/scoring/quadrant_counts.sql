-- How many accounts landed in each quadrant on the day: what the run logs and the CLI prints.
SELECT quadrant, count(*) AS accounts
FROM marts.account_quadrants
WHERE day = %(day)s AND health_version = %(health_version)s AND cmi_version = %(cmi_version)s
GROUP BY quadrant
ORDER BY quadrant
