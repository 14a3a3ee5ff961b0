-- One task to push, locked for this transaction; nothing when it was pushed or
-- closed meanwhile, or another run holds it (SKIP LOCKED: runs never wait on each other).
SELECT task_id, dedup_key, day, account_id, title, body, reason, owner_id, due_date, priority, five_w1h
FROM marts.csm_tasks
WHERE task_id = %(task_id)s AND status = 'open' AND crm_task_id IS NULL
FOR UPDATE SKIP LOCKED
