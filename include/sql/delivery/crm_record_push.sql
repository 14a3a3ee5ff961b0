-- The CRM id of a pushed task, and its history row, in the transaction that claimed it.
UPDATE marts.csm_tasks SET crm_task_id = %(crm_task_id)s, pushed_at = now() WHERE task_id = %(task_id)s;

INSERT INTO marts.csm_task_history (task_id, event, detail) VALUES (%(task_id)s, 'pushed', %(detail)s);
