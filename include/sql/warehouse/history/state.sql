-- Whether the stream has any history yet (its first load's versions stand for
-- every earlier day) and the newest moment it records: a snapshot observed
-- before that would rewrite history out of order.
SELECT count(*) > 0 AS has_history, greatest(max(loaded_at), max(valid_to)) AS newest
FROM {history}
