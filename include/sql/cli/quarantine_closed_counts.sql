-- The entries no longer open, by how they left: fixed by a later load,
-- acknowledged by a person, or released back into a load.
SELECT coalesce(closed_how, 'released') AS how, count(*) AS entries
FROM meta.quarantine
WHERE (closed_at IS NOT NULL OR released_in_batch IS NOT NULL)
  AND (%(source)s::text IS NULL OR source = %(source)s)
  AND (%(stream)s::text IS NULL OR stream = %(stream)s)
GROUP BY 1
ORDER BY 1
