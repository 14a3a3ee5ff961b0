-- When a stream last finished loading, from any source: a feed that stopped
-- shows here before it shows as falling scores.
SELECT max(finished_at) AS last_loaded
FROM meta.load_batches
WHERE stream = %(stream)s
