-- The export files this batch read, by name and content, in the batch's
-- transaction: the next run reads only files (or contents) not listed here.
INSERT INTO meta.source_files (source, stream, name, size, sha256, batch_id)
SELECT %(source)s, %(stream)s, f.name, f.size, f.sha256, %(batch_id)s
FROM unnest(%(names)s::text[], %(sizes)s::bigint[], %(sha256s)s::text[]) AS f(name, size, sha256)
ON CONFLICT (source, stream, name, sha256) DO NOTHING
