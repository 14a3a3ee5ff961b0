-- The health x maturity quadrant of every scored account on one day.
-- Parameters: day, health_version, cmi_version, health_cut, maturity_cut, stale_after_days.
DELETE FROM marts.account_quadrants
WHERE day = %(day)s::date AND health_version = %(health_version)s::text AND cmi_version = %(cmi_version)s::text;

INSERT INTO marts.account_quadrants
    (account_id, day, health_version, cmi_version, health_score, health_band, cmi, cmi_assessed_at, cmi_stale, quadrant)
SELECT h.account_id, h.day, h.config_version, %(cmi_version)s::text, h.score, h.band,
       latest.cmi, latest.assessed_at,
       coalesce(latest.assessed_at < h.day + 1 - make_interval(days => %(stale_after_days)s::int), false),
       CASE WHEN h.score IS NULL THEN 'unknown_health'
            WHEN latest.cmi IS NULL THEN 'unknown_maturity'
            WHEN h.score >= %(health_cut)s::numeric AND latest.cmi >= %(maturity_cut)s::numeric THEN 'star'
            WHEN h.score >= %(health_cut)s::numeric THEN 'cash_cow'
            WHEN latest.cmi >= %(maturity_cut)s::numeric THEN 'worth_keeping'
            ELSE 'tough' END
FROM marts.health_scores AS h
LEFT JOIN LATERAL (
    -- point in time: the latest assessment submitted by the end of that day
    SELECT c.cmi, c.assessed_at
    FROM marts.cmi_scores AS c
    WHERE c.account_id = h.account_id AND c.config_version = %(cmi_version)s::text
      AND c.assessed_at < h.day + 1
    ORDER BY c.assessed_at DESC
    LIMIT 1
) AS latest ON true
WHERE h.day = %(day)s::date AND h.config_version = %(health_version)s::text;

-- The playbooks read this day's quadrants next, joined to the day's KPIs:
-- without the day in the statistics the planner took it for one row and
-- joined 20,000 x 20,000 by nested loops (149 s at 20,000 accounts). The day
-- and versions only, from a sample of 3,000 rows (migration V100), a cost
-- that does not grow with the days stored; the whole table when a tenth of
-- it changed (scoring.maturity).
ANALYZE marts.account_quadrants (day, health_version, cmi_version);
