-- One recipient's open tasks of the day on a channel, highest priority and earliest due first,
-- with the account's name as marts.accounts had it that day.
-- Parameters: day, channel, recipient, queue_prefix, priorities (text[] in order).
SELECT t.task_id, t.play,
       coalesce((SELECT a.name FROM marts.accounts_as_of(%(day)s::date) AS a WHERE a.account_id = t.account_id),
                t.account_id) AS account_name,
       t.title, t.priority, t.due_date, t.reason
FROM marts.csm_tasks AS t
WHERE t.day = %(day)s AND t.status = 'open' AND %(channel)s = ANY (t.channels)
  AND coalesce(t.owner_email, %(queue_prefix)s || coalesce(t.queue, 'unassigned')) = %(recipient)s
ORDER BY array_position(%(priorities)s::text[], t.priority), t.due_date, t.task_id;
