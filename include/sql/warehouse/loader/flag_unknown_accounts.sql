-- A row of a per-account stream must name an account the CRM knows. The
-- reason text is composed by the caller: the quarantine recognises it to keep
-- the row waiting for its account (see release_rows_awaiting_accounts.sql).
UPDATE _candidates AS c
SET _reasons = c._reasons || {unknown_account}
WHERE cardinality(c._reasons) = 0
  AND NOT EXISTS (SELECT 1 FROM staging.crm_accounts AS a WHERE a.account_id = c.account_id)
