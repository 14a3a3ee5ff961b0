-- Sources load on their own schedules, so usage can arrive before the CRM
-- knows a new account. Rows quarantined only for that rejoin this batch once
-- the account is known, numbered after the batch's own lines, and go through
-- every check again, as do rows a person released (`quarantine release`).
-- The quarantine row records which batch took it back.
WITH released AS (
    UPDATE meta.quarantine AS q
    SET released_in_batch = %(batch_id)s
    WHERE q.source = %(source)s AND q.stream = %(stream)s
      AND q.released_in_batch IS NULL AND q.closed_at IS NULL
      AND (q.release_requested_at IS NOT NULL
           OR (q.awaiting_account IS NOT NULL
               AND EXISTS (SELECT 1 FROM staging.crm_accounts AS a WHERE a.account_id = q.awaiting_account)))
    RETURNING q.quarantine_id, q.payload, q.origin
),
last_line AS (
    SELECT coalesce(max(_line), 0) AS line FROM {landing} WHERE _batch_id = %(batch_id)s
)
INSERT INTO {landing} (_source, _batch_id, _line, _origin, {columns})
SELECT %(source)s, %(batch_id)s,
       (SELECT line FROM last_line) + row_number() OVER (ORDER BY q.quarantine_id), q.origin,
       {from_payload}
FROM released AS q
