-- What auto_close.sql would close, without closing it (a preview of a past day or of a candidate).
-- Parameters: reason, play, evaluated (account ids), firing (account ids).
SELECT task_id, account_id
FROM marts.csm_tasks
WHERE play = %(play)s AND status = 'open'
  AND account_id = ANY (%(evaluated)s::text[]) AND NOT (account_id = ANY (%(firing)s::text[]))
ORDER BY account_id, task_id
