-- Whether rows of this source wait in quarantine for an account the CRM knows
-- by now: then the careful path must take the batch, to release them.
SELECT EXISTS (
    SELECT 1
    FROM meta.quarantine AS q
    JOIN staging.crm_accounts AS a ON a.account_id = q.awaiting_account
    WHERE q.source = %(source)s AND q.stream = %(stream)s
      AND q.awaiting_account IS NOT NULL AND q.released_in_batch IS NULL
) AS waiting
