-- Whether the bulk path loaded a row the careful path would quarantine but no
-- constraint refuses: a key over the loader's limit (a long repetitive key
-- compresses and still fits its index) or an event time beyond the future
-- tolerance. Then the attempt rolls back and the careful path takes the batch.
SELECT EXISTS (SELECT 1 FROM {staging} AS s WHERE s._batch_id = %(batch_id)s AND ({needs_care})) AS found
