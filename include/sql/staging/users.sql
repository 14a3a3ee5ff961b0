-- Cast one batch of raw product users (issued seats) to canonical types.
-- MATERIALIZED: each value is cast once, not again where the checks below read it.
WITH typed AS MATERIALIZED (
    SELECT r._line,
           NULLIF(r.user_id, '')                 AS user_id,
           NULLIF(r.account_id, '')              AS account_id,
           r.created_at                          AS created_raw,
           util.try_timestamptz(r.created_at)    AS created_at,
           r.deactivated_at                      AS deactivated_raw,
           util.try_timestamptz(r.deactivated_at) AS deactivated_at,
           NULLIF(r.role, '')                    AS role
    FROM {landing} AS r
    WHERE r._batch_id = %(batch_id)s
)
SELECT _line, user_id, account_id, created_at, deactivated_at, role,
       array_remove(ARRAY[
           util.missing('user_id', user_id),
           util.missing('account_id', account_id),
           util.missing('created_at', created_raw),
           util.bad_value('created_at', created_raw, created_at),
           util.bad_value('deactivated_at', deactivated_raw, deactivated_at),
           CASE WHEN deactivated_at < created_at THEN 'deactivated_at before created_at' END
       ], NULL) AS _reasons
FROM typed
