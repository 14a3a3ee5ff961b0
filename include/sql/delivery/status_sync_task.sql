-- Our task behind a CRM task, locked while its status is brought in line.
SELECT task_id, status, dedup_key FROM marts.csm_tasks WHERE crm_task_id = %(crm_task_id)s FOR UPDATE
