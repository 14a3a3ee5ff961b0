-- How many recorded event names a kpis.yml events_matching pattern (SQL LIKE)
-- matches: none means the KPI declaring it is zero (or NULL) for everyone.
-- Parameters: pattern.
SELECT count(*) AS matching FROM intermediate.event_names WHERE event_name LIKE %(pattern)s::text
