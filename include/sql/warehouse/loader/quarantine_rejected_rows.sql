-- Every rejected row is kept with its reasons and its payload as received, so
-- a person can see what came and why. A row already waiting in quarantine with
-- the same payload and reason (the overlap of an incremental re-read, a rerun)
-- is not stored twice.
INSERT INTO meta.quarantine (source, stream, batch_id, line, record_key, reason, payload, awaiting_account)
WITH rejected AS (
    SELECT c._line,
           NULLIF({key_text}, '') AS record_key,
           array_to_string(c._reasons, '; ') AS reason,
           jsonb_build_object({payload}) AS payload,
           {awaiting} AS awaiting_account
    FROM _candidates AS c
    JOIN {landing} AS r ON r._batch_id = %(batch_id)s AND r._line = c._line
    WHERE cardinality(c._reasons) > 0
)
SELECT %(source)s, %(stream)s, %(batch_id)s, j._line, j.record_key, j.reason, j.payload, j.awaiting_account
FROM rejected AS j
WHERE NOT EXISTS (
    SELECT 1
    FROM meta.quarantine AS q
    WHERE q.source = %(source)s AND q.stream = %(stream)s AND q.released_in_batch IS NULL
      AND q.reason = j.reason AND q.payload = j.payload)
ORDER BY j._line
