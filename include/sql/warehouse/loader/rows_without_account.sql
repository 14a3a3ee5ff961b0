-- How many rows lack a known account, and which account ids they name (the
-- rows are landed again from the spool by these ids).
SELECT count(*) AS row_count,
       coalesce(array_agg(DISTINCT account_id) FILTER (WHERE account_id IS NOT NULL), '{}') AS unknown_accounts
FROM _without_account
