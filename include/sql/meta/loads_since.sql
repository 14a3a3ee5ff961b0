-- Loads committed after a point in time (the last scoring run of a day): no row
-- inserted or updated means a new scoring of that day finds nothing new. Parameters: since.
SELECT count(*) AS loads, coalesce(sum(rows_inserted + rows_updated), 0) AS rows_changed, max(finished_at) AS last_load_at
FROM meta.load_batches
WHERE finished_at > %(since)s
