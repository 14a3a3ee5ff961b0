-- Cast one batch of raw CRM accounts to canonical types.
-- MATERIALIZED: each value is cast once, not again where the checks below read it.
WITH typed AS MATERIALIZED (
    SELECT r._line,
           NULLIF(r.account_id, '')          AS account_id,
           NULLIF(r.name, '')                AS name,
           NULLIF(r.parent_account_id, '')   AS parent_account_id,
           NULLIF(r.csm_owner_id, '')        AS csm_owner_id,
           r.employees                       AS employees_raw,
           util.try_int(r.employees)         AS employees,
           NULLIF(r.industry, '')            AS industry,
           NULLIF(r.region, '')              AS region,
           lower(NULLIF(r.lifecycle_stage, '')) AS lifecycle_stage,
           r.created_at                      AS created_raw,
           util.try_timestamptz(r.created_at) AS created_at
    FROM {landing} AS r
    WHERE r._batch_id = %(batch_id)s
)
SELECT _line, account_id, name, parent_account_id, csm_owner_id, employees, industry, region,
       lifecycle_stage, created_at,
       array_remove(ARRAY[
           util.missing('account_id', account_id),
           util.bad_value('employees', employees_raw, employees),
           CASE WHEN employees < 0 THEN format('negative employees: %%s', employees) END,
           util.bad_value('created_at', created_raw, created_at),
           CASE WHEN parent_account_id = account_id THEN 'account is its own parent' END
       ], NULL) AS _reasons
FROM typed
