-- Which of the given days carry scores of a version. Parameters: config_version, days (date[]).
SELECT DISTINCT h.day FROM marts.health_scores AS h
WHERE h.config_version = %(config_version)s AND h.day = ANY (%(days)s::date[]) ORDER BY h.day;
