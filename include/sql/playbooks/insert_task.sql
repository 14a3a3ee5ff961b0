-- A new open task; the partial unique index on open tasks makes a second one a no-op.
-- A held-out task (the play's control group) is recorded with no channels: nothing delivers it.
INSERT INTO marts.csm_tasks
    (play, account_id, dedup_key, day, playbooks_version, priority, title, body, reason,
     owner_id, owner_email, queue, due_date, channels, five_w1h, held_out)
VALUES (%(play)s, %(account)s, %(key)s, %(day)s, %(version)s, %(priority)s, %(title)s, %(body)s,
        %(reason)s, %(owner_id)s, %(owner_email)s, %(queue)s, %(due)s, %(channels)s, %(five)s, %(held_out)s)
ON CONFLICT (dedup_key) WHERE status = 'open' DO NOTHING
RETURNING task_id
