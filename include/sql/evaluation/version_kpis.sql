-- KPIs the measures of a scorecard version read: the rest are "not in the scorecard".
-- Parameters: config_version.
SELECT DISTINCT m.kpi FROM meta.scorecard_measures AS m WHERE m.config_version = %(config_version)s ORDER BY m.kpi;
