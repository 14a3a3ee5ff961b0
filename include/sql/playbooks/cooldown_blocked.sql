-- Accounts a play may not fire for: an open task, or one closed within the cooldown.
-- Parameters: play, day, cooldown_days.
SELECT account_id
FROM marts.csm_tasks
WHERE play = %(play)s AND (status = 'open' OR closed_at >= %(day)s::date - %(cooldown_days)s::int)
