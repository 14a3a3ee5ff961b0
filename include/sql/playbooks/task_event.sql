-- One line of a task's history. Parameters: task_id, event, detail (jsonb or NULL).
INSERT INTO marts.csm_task_history (task_id, event, detail) VALUES (%(task_id)s, %(event)s, %(detail)s)
