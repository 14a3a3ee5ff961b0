-- Cast one batch of raw CRM owners (the CSMs) to canonical types.
SELECT r._line,
       NULLIF(r.owner_id, '')      AS owner_id,
       lower(NULLIF(r.email, ''))  AS email,
       NULLIF(r.name, '')          AS name,
       array_remove(ARRAY[
           util.missing('owner_id', NULLIF(r.owner_id, '')),
           CASE WHEN r.email !~ '^[^@\s]+@[^@\s]+$' THEN format('invalid email: %%s', quote_literal(r.email)) END
       ], NULL) AS _reasons
FROM {landing} AS r
WHERE r._batch_id = %(batch_id)s
