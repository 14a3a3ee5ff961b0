-- The first UTC day each snapshot stream's history covers (NULL: never loaded).
-- KPI values of earlier days read that stream's earliest version, not what was known then.
SELECT stream, (first_loaded_at AT TIME ZONE 'UTC')::date AS first_day
FROM meta.snapshot_history_start
