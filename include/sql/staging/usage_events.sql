-- Cast one batch of raw usage events to canonical types; _reasons says why a row cannot load.
-- MATERIALIZED: each value is cast once, not again where the checks below read it.
WITH typed AS MATERIALIZED (
    SELECT r._line,
           NULLIF(r.event_id, '')                AS event_id,
           NULLIF(r.account_id, '')              AS account_id,
           NULLIF(r.user_id, '')                 AS user_id,
           NULLIF(r.event_name, '')              AS event_name,
           r.occurred_at                         AS occurred_at_raw,
           util.try_timestamptz(r.occurred_at)   AS occurred_at,
           r.duration_seconds                    AS duration_raw,
           util.try_numeric(r.duration_seconds)  AS duration_seconds
    FROM {landing} AS r
    WHERE r._batch_id = %(batch_id)s
)
SELECT _line, event_id, account_id, user_id, event_name, occurred_at, duration_seconds,
       array_remove(ARRAY[
           util.missing('event_id', event_id),
           util.missing('account_id', account_id),
           util.missing('event_name', event_name),
           util.missing('occurred_at', occurred_at_raw),
           util.bad_value('occurred_at', occurred_at_raw, occurred_at),
           util.bad_value('duration_seconds', duration_raw, duration_seconds),
           CASE WHEN duration_seconds < 0 THEN 'negative duration_seconds' END
       ], NULL) AS _reasons
FROM typed
