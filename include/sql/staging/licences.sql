-- Cast one batch of raw licences (seats per account) to canonical types.
-- MATERIALIZED: each value is cast once, not again where the checks below read it.
WITH typed AS MATERIALIZED (
    SELECT r._line,
           NULLIF(r.account_id, '')  AS account_id,
           r.seats                   AS seats_raw,
           util.try_int(r.seats)     AS seats
    FROM {landing} AS r
    WHERE r._batch_id = %(batch_id)s
)
SELECT _line, account_id, seats,
       array_remove(ARRAY[
           util.missing('account_id', account_id),
           util.missing('seats', seats_raw),
           util.bad_value('seats', seats_raw, seats),
           CASE WHEN seats < 0 THEN format('negative seats: %%s', seats) END
       ], NULL) AS _reasons
FROM typed
