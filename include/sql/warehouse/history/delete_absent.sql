-- Rows deleted at the source leave staging (staging is what the source says
-- now) and their current version in history closes as deleted at the load's time.
UPDATE {history} AS h
SET valid_to = %(at)s, deleted = true, closed_in_batch = %(batch_id)s
FROM _absent AS a
WHERE h.valid_to IS NULL AND {history_key_match};
DELETE FROM {staging} AS s
USING _absent AS a
WHERE {staging_key_match}
