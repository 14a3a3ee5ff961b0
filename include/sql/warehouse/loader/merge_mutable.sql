-- Mutable streams (accounts, contracts): new keys are inserted, changed rows
-- updated, identical rows left alone (their _loaded_at stays). One row per
-- key goes in. RETURNING tells inserts (xmax = 0) from updates.
INSERT INTO {staging} AS t ({columns}, _source, _batch_id)
SELECT DISTINCT ON ({keys}) {columns}, %(source)s, %(batch_id)s
FROM _candidates
WHERE cardinality(_reasons) = 0
ORDER BY {keys}
ON CONFLICT ({keys}) DO UPDATE SET {updates}, _loaded_at = now()
WHERE {changed}
RETURNING (xmax = 0) AS inserted
