-- The newest CRM modification time applied, in the transaction of the changes.
INSERT INTO meta.source_state (source, stream, cursor) VALUES (%(source)s, %(stream)s, %(cursor)s)
ON CONFLICT (source, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = now()
