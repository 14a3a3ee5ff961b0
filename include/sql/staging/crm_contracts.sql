-- Cast one batch of raw CRM contracts to canonical types; end_date is the renewal date.
-- MATERIALIZED: each value is cast once, not again where the checks below read it.
WITH typed AS MATERIALIZED (
    SELECT r._line,
           NULLIF(r.contract_id, '')     AS contract_id,
           NULLIF(r.account_id, '')      AS account_id,
           r.start_date                  AS start_raw,
           util.try_date_prefix(r.start_date)   AS start_date,
           r.end_date                    AS end_raw,
           util.try_date_prefix(r.end_date)     AS end_date,
           r.arr                         AS arr_raw,
           util.try_numeric(r.arr)       AS arr,
           lower(NULLIF(r.status, ''))   AS status
    FROM {landing} AS r
    WHERE r._batch_id = %(batch_id)s
)
SELECT _line, contract_id, account_id, start_date, end_date, arr, status,
       array_remove(ARRAY[
           util.missing('contract_id', contract_id),
           util.missing('account_id', account_id),
           util.missing('start_date', start_raw),
           util.bad_value('start_date', start_raw, start_date),
           util.missing('end_date', end_raw),
           util.bad_value('end_date', end_raw, end_date),
           CASE WHEN end_date < start_date THEN 'end_date before start_date' END,
           util.bad_value('arr', arr_raw, arr),
           CASE WHEN arr < 0 THEN format('negative arr: %%s', arr) END,
           CASE WHEN status IS NULL OR status NOT IN ('active', 'renewed', 'churned', 'expanded')
                THEN format('status must be active, renewed, churned or expanded, got %%s', quote_nullable(status)) END
       ], NULL) AS _reasons
FROM typed
