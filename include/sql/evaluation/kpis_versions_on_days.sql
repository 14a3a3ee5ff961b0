-- The kpis.yml versions behind the other scorecard versions scored on the given days: the KPI
-- rows of those days were built under them. A backfill for a version of another kpis.yml (a team
-- that just mapped its own event names) rebuilds the KPIs first, or it would judge the new
-- definition on the old one's numbers. Parameters: config_version, days (date[]).
SELECT DISTINCT v.parts ->> 'kpis' AS kpis_version
FROM (SELECT DISTINCT h.config_version FROM marts.health_scores AS h
      WHERE h.day = ANY (%(days)s::date[]) AND h.config_version <> %(config_version)s) AS s
JOIN meta.config_versions AS v ON v.kind = 'scoring' AND v.version = s.config_version
WHERE v.parts ->> 'kpis' IS NOT NULL
ORDER BY 1;
