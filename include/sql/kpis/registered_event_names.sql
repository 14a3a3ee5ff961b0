-- How many event names hold a bit already, for the error when they run out.
SELECT count(*) AS registered FROM intermediate.event_names
