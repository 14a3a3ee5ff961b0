-- Current versions whose staging row this batch changed close at the load's
-- time (rows the merge left identical keep their _batch_id, so a rerun closes nothing).
UPDATE {history} AS h
SET valid_to = %(at)s, closed_in_batch = %(batch_id)s
FROM {staging} AS s
WHERE s._batch_id = %(batch_id)s AND h.valid_to IS NULL AND {key_match}
  AND {history_row} IS DISTINCT FROM {staging_row}
