-- Rows this batch wrote that have no current version (new keys, changed rows
-- closed just before, keys back after a deletion) open one. The stream's very
-- first load opens with valid_from NULL: the earliest version loaded stands
-- for every earlier day, since the source keeps no history of its own.
INSERT INTO {history} ({columns}, valid_from, loaded_at, _source, opened_in_batch)
SELECT {staging_columns}, CASE WHEN %(first_load)s THEN NULL ELSE %(at)s::timestamptz END, %(at)s, s._source, %(batch_id)s
FROM {staging} AS s
WHERE s._batch_id = %(batch_id)s
  AND NOT EXISTS (SELECT 1 FROM {history} AS h WHERE h.valid_to IS NULL AND {key_match})
