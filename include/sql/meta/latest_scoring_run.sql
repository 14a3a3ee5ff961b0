-- The scoring run to read: with day NULL, the latest finished run of the latest scored
-- day (a rerun of a past day, finished later, is not "the latest"); with a day, the
-- latest finished run that scored it (its last day, or one of its history days).
-- Parameters: day.
SELECT day, scoring_version, cmi_version, finished_at
FROM meta.scoring_runs
WHERE %(day)s::date IS NULL OR %(day)s::date BETWEEN day - days_scored + 1 AND day
ORDER BY CASE WHEN %(day)s::date IS NULL THEN day END DESC NULLS LAST, finished_at DESC, run_id DESC
LIMIT 1
