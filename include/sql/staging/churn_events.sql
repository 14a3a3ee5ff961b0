-- Cast one batch of raw churn events (account_id, churned_at, reason) to canonical types.
-- MATERIALIZED: each value is cast once, not again where the checks below read it.
WITH typed AS MATERIALIZED (
    SELECT r._line,
           NULLIF(r.account_id, '')        AS account_id,
           r.churned_at                    AS churned_raw,
           util.try_date(r.churned_at)     AS churned_at,
           NULLIF(r.reason, '')            AS reason
    FROM {landing} AS r
    WHERE r._batch_id = %(batch_id)s
)
SELECT _line, account_id, churned_at, reason,
       array_remove(ARRAY[
           util.missing('account_id', account_id),
           util.missing('churned_at', churned_raw),
           util.bad_value('churned_at', churned_raw, churned_at)
       ], NULL) AS _reasons
FROM typed
