-- Event names the product sends that kpis.yml names nowhere (neither login, core action nor
-- milestone), from the event-name dictionary the KPI build keeps (no scan of the events): next
-- to configured names that never occur, they are what a team maps instead.
-- Parameters: configured (text[]).
SELECT e.event_name AS name
FROM intermediate.event_names AS e
WHERE e.event_name <> ALL (%(configured)s::text[])
ORDER BY e.event_name;
