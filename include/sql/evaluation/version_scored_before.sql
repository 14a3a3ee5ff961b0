-- Did a scorecard version score any day before the given one? A version that did not is a new
-- definition (a changed scorecards.yml or kpis.yml): the KPI rows of earlier days may have been
-- built under another kpis.yml, so a backfill rebuilds them under its own first.
-- Parameters: config_version, day.
SELECT EXISTS (
    SELECT 1 FROM marts.health_scores AS h WHERE h.config_version = %(config_version)s AND h.day < %(day)s::date
) AS scored_before;
