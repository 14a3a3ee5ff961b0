-- Cast one batch of raw upsell / cross-sell deals to canonical types.
-- MATERIALIZED: each value is cast once, not again where the checks below read it.
WITH typed AS MATERIALIZED (
    SELECT r._line,
           NULLIF(r.expansion_id, '')    AS expansion_id,
           NULLIF(r.account_id, '')      AS account_id,
           lower(NULLIF(r.kind, ''))     AS kind,
           r.closed_at                   AS closed_raw,
           util.try_date_prefix(r.closed_at)  AS closed_at,
           r.arr_delta                   AS arr_delta_raw,
           util.try_numeric(r.arr_delta) AS arr_delta
    FROM {landing} AS r
    WHERE r._batch_id = %(batch_id)s
)
SELECT _line, expansion_id, account_id, kind, closed_at, arr_delta,
       array_remove(ARRAY[
           util.missing('expansion_id', expansion_id),
           util.missing('account_id', account_id),
           CASE WHEN kind IS NULL OR kind NOT IN ('upsell', 'cross_sell')
                THEN format('kind must be upsell or cross_sell, got %%s', quote_nullable(kind)) END,
           util.missing('closed_at', closed_raw),
           util.bad_value('closed_at', closed_raw, closed_at),
           util.bad_value('arr_delta', arr_delta_raw, arr_delta)
       ], NULL) AS _reasons
FROM typed
