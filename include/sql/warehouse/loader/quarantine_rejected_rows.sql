-- Every rejected row is kept with its reasons and its payload as received, so
-- a person can see what came and why. A row already waiting in quarantine with
-- the same payload and reason (the overlap of an incremental re-read, a rerun)
-- is not stored twice, nor one a person acknowledged. The origin says where the
-- record is in its source (file and line, API object and id); line is its
-- place in the batch. A key is cut to 500 characters (an oversized one is the reason).
INSERT INTO meta.quarantine (source, stream, batch_id, line, record_key, reason, reason_kind, payload, awaiting_account,
                             origin, releasable)
WITH rejected AS (
    SELECT c._line,
           NULLIF({key_text}, '') AS record_key,
           array_to_string(c._reasons, '; ') AS reason,
           jsonb_build_object({payload}) AS payload,
           {awaiting} AS awaiting_account,
           r._origin AS origin,
           r._reject IS NULL AS releasable
    FROM _candidates AS c
    JOIN {landing} AS r ON r._batch_id = %(batch_id)s AND r._line = c._line
    WHERE cardinality(c._reasons) > 0
)
SELECT %(source)s, %(stream)s, %(batch_id)s, j._line, left(j.record_key, 500), j.reason, util.reason_kind(j.reason), j.payload,
       j.awaiting_account, j.origin, j.releasable
FROM rejected AS j
WHERE NOT EXISTS (
    SELECT 1
    FROM meta.quarantine AS q
    WHERE q.source = %(source)s AND q.stream = %(stream)s AND q.released_in_batch IS NULL
      AND q.reason = j.reason AND q.payload = j.payload)
ORDER BY j._line
