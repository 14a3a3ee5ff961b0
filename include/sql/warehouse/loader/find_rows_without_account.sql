-- Rows the bulk path loaded whose account is missing or unknown to the CRM:
-- they must go to quarantine as on the careful path. A null account_id never
-- joins, so one anti-join finds both kinds.
CREATE TEMP TABLE _without_account ON COMMIT DROP AS
SELECT s.ctid AS row_id, s.account_id
FROM {staging} AS s
LEFT JOIN staging.crm_accounts AS a ON a.account_id = s.account_id
WHERE s._batch_id = %(batch_id)s AND a.account_id IS NULL
