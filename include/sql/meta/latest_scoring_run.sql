-- The latest finished scoring run: of any day (day NULL), or one that scored
-- the given day (its last day, or one of its history days). Parameters: day.
SELECT day, scoring_version, cmi_version, finished_at
FROM meta.scoring_runs
WHERE %(day)s::date IS NULL OR %(day)s::date BETWEEN day - days_scored + 1 AND day
ORDER BY finished_at DESC, run_id DESC
LIMIT 1
