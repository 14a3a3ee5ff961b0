-- Open tasks pushed before the grace period: a deleted CRM task is never "modified",
-- so these are looked up by id (younger ones may not be in the search index yet).
SELECT crm_task_id
FROM marts.csm_tasks
WHERE status = 'open' AND crm_task_id IS NOT NULL AND pushed_at < now() - %(grace)s
ORDER BY task_id
