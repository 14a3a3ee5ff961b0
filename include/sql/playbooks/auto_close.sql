-- Close a play's open tasks of accounts evaluated today whose condition no longer holds.
-- Parameters: reason, play, evaluated (account ids), firing (account ids).
UPDATE marts.csm_tasks
SET status = 'auto_closed', closed_at = now(), close_reason = 'condition cleared: ' || %(reason)s
WHERE play = %(play)s AND status = 'open'
  AND account_id = ANY (%(evaluated)s::text[]) AND NOT (account_id = ANY (%(firing)s::text[]))
RETURNING task_id
