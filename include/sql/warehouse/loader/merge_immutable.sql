-- Immutable streams: rows already in staging are identical (changed ones were
-- quarantined), so only keys staging lacks go in. The stream lock makes a
-- plain INSERT safe, and it is much cheaper than ON CONFLICT's speculative
-- inserts. The caller adds DISTINCT ON the key when exact copies came.
INSERT INTO {staging} ({columns}, _source, _batch_id)
SELECT {distinct} {columns}, %(source)s, %(batch_id)s
FROM _candidates AS c
WHERE cardinality(c._reasons) = 0
  AND NOT EXISTS (SELECT 1 FROM {staging} AS s WHERE {key_match})
