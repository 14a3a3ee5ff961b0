-- Closed in the CRM: closed here, at the CRM's modification time when known.
UPDATE marts.csm_tasks
SET status = %(status)s, closed_at = coalesce(%(closed_at)s, now()), close_reason = %(reason)s
WHERE task_id = %(task_id)s
