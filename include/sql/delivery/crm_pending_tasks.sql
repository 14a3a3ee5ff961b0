-- Open tasks routed to the CRM that have no CRM task yet (delivery/crm.py: push_tasks).
-- A NULL limit: all of them.
SELECT task_id
FROM marts.csm_tasks
WHERE status = 'open' AND 'crm' = ANY (channels) AND crm_task_id IS NULL
ORDER BY task_id
LIMIT %(limit)s
