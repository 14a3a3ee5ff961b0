-- Where the next incremental read starts; written in the load's transaction,
-- so the cursor only moves when the batch it covers committed.
INSERT INTO meta.source_state (source, stream, cursor, batch_id)
VALUES (%(source)s, %(stream)s, %(cursor)s, %(batch_id)s)
ON CONFLICT (source, stream) DO UPDATE
SET cursor = EXCLUDED.cursor, batch_id = EXCLUDED.batch_id, updated_at = now()
