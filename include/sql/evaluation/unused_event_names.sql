-- Configured event names (kpis.yml) that never occur in the product events:
-- a KPI counting them is zero for every account. Uses the event-name
-- dictionary the KPI build keeps, so no scan of the events.
-- Parameters: configured (text[]).
SELECT n.name
FROM unnest(%(configured)s::text[]) AS n(name)
WHERE NOT EXISTS (SELECT 1 FROM intermediate.event_names AS e WHERE e.event_name = n.name)
ORDER BY n.name;
