-- One event in a task's history.
INSERT INTO marts.csm_task_history (task_id, event, detail) VALUES (%(task_id)s, %(event)s, %(detail)s)
