-- `quarantine release`: the chosen open entries go through every check again
-- in a load of their stream (see release_rows_awaiting_accounts.sql). Entries
-- whose payload had to be altered to be stored (releasable = false) are not
-- released: loading them would load the altered values; they are returned so
-- the command can say so.
WITH chosen AS (
    SELECT quarantine_id, releasable
    FROM meta.quarantine
    WHERE released_in_batch IS NULL AND closed_at IS NULL
      AND (%(ids)s::bigint[] IS NULL OR quarantine_id = ANY(%(ids)s::bigint[]))
      AND (%(source)s::text IS NULL OR source = %(source)s)
      AND (%(stream)s::text IS NULL OR stream = %(stream)s)
      AND (%(kind)s::text IS NULL OR reason_kind = %(kind)s)
),
requested AS (
    UPDATE meta.quarantine AS q
    SET release_requested_at = now()
    FROM chosen AS c
    WHERE q.quarantine_id = c.quarantine_id AND c.releasable
    RETURNING q.source, q.stream
)
SELECT source, stream, count(*) AS requested, 0 AS refused FROM requested GROUP BY source, stream
UNION ALL
SELECT q.source, q.stream, 0, count(*)
FROM chosen AS c JOIN meta.quarantine AS q USING (quarantine_id)
WHERE NOT c.releasable
GROUP BY q.source, q.stream
ORDER BY 1, 2
