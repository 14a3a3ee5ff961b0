-- Reopened in the CRM: open again, unless a newer open task exists for the same play and account.
UPDATE marts.csm_tasks SET status = 'open', closed_at = NULL, close_reason = NULL
WHERE task_id = %(task_id)s
  AND NOT EXISTS (SELECT 1 FROM marts.csm_tasks WHERE dedup_key = %(dedup_key)s AND status = 'open')
