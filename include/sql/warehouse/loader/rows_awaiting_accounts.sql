-- Whether rows of this source wait in quarantine for an account the CRM knows
-- by now, or that a person released: then the careful path must take the batch.
SELECT EXISTS (
    SELECT 1
    FROM meta.quarantine AS q
    WHERE q.source = %(source)s AND q.stream = %(stream)s
      AND q.released_in_batch IS NULL AND q.closed_at IS NULL
      AND (q.release_requested_at IS NOT NULL
           OR (q.awaiting_account IS NOT NULL
               AND EXISTS (SELECT 1 FROM staging.crm_accounts AS a WHERE a.account_id = q.awaiting_account)))
) AS waiting
