-- An immutable stream's row (an event, a survey answer) must never change
-- after it was loaded: a key that comes back with other content is quarantined.
UPDATE _candidates AS c
SET _reasons = c._reasons || format('already loaded with different content: key %%s (batch %%s)', {key_text}, s._batch_id)
FROM {staging} AS s
WHERE {key_match} AND cardinality(c._reasons) = 0 AND {candidate_row} IS DISTINCT FROM {staging_row}
