-- An open quarantine entry is closed once its key loads clean in a later batch
-- (the corrected row arrived), so what stays open is what still needs a person.
-- A changed immutable row stays open: the clean copy is the old content, not a fix.
WITH fixed AS (
    SELECT DISTINCT q.quarantine_id
    FROM meta.quarantine AS q
    JOIN _candidates AS c ON q.record_key = {key_text} AND cardinality(c._reasons) = 0
    WHERE q.stream = %(stream)s AND q.closed_at IS NULL AND q.released_in_batch IS NULL
      AND q.batch_id <> %(batch_id)s
      AND q.reason_kind NOT LIKE '%%already loaded with different content%%'
)
UPDATE meta.quarantine AS q
SET closed_at = now(), closed_in_batch = %(batch_id)s, closed_how = 'fixed by a later load'
FROM fixed
WHERE q.quarantine_id = fixed.quarantine_id
