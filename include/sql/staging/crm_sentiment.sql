-- Cast one batch of raw CSM sentiment entries (1 red, 2 yellow, 3 green) to canonical types.
-- MATERIALIZED: each value is cast once, not again where the checks below read it.
WITH typed AS MATERIALIZED (
    SELECT r._line,
           NULLIF(r.entry_id, '')        AS entry_id,
           NULLIF(r.account_id, '')      AS account_id,
           NULLIF(r.csm_owner_id, '')    AS csm_owner_id,
           r.sentiment                   AS sentiment_raw,
           util.try_int(r.sentiment)     AS sentiment,
           NULLIF(r.note, '')            AS note,
           r.recorded_at                 AS recorded_raw,
           util.try_timestamptz(r.recorded_at) AS recorded_at
    FROM {landing} AS r
    WHERE r._batch_id = %(batch_id)s
)
SELECT _line, entry_id, account_id, csm_owner_id, sentiment, note, recorded_at,
       array_remove(ARRAY[
           util.missing('entry_id', entry_id),
           util.missing('account_id', account_id),
           util.missing('sentiment', sentiment_raw),
           util.bad_value('sentiment', sentiment_raw, sentiment),
           CASE WHEN sentiment NOT BETWEEN 1 AND 3 THEN format('sentiment must be 1 (red) to 3 (green), got %%s', sentiment) END,
           util.missing('recorded_at', recorded_raw),
           util.bad_value('recorded_at', recorded_raw, recorded_at)
       ], NULL) AS _reasons
FROM typed
