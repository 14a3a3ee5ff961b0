-- A batch of tasks to push, locked for this transaction: those not pushed or closed
-- meanwhile and not held by another run (SKIP LOCKED: runs never wait on each other).
SELECT task_id, dedup_key, day, account_id, title, body, reason, owner_id, due_date, priority, five_w1h
FROM marts.csm_tasks
WHERE task_id = ANY (%(task_ids)s) AND status = 'open' AND crm_task_id IS NULL
ORDER BY task_id
FOR UPDATE SKIP LOCKED
