-- A task went out in a digest: its history says so. Parameters: task_id, detail (json).
INSERT INTO marts.csm_task_history (task_id, event, detail) VALUES (%(task_id)s, 'in_digest', %(detail)s);
