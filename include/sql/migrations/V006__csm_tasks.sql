-- CSM tasks created by playbooks, delivered where CSMs work, with their history.
-- "Exactly once" is the database's job: one OPEN task per play and account
-- (a partial unique index), one CRM task per task (crm_task_id), one digest
-- per CSM, channel and day.

CREATE TABLE marts.csm_tasks (
    task_id        bigserial PRIMARY KEY,
    play           text NOT NULL,
    account_id     text NOT NULL,
    dedup_key      text NOT NULL,
    day            date NOT NULL,
    playbooks_version text NOT NULL,
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'dismissed', 'auto_closed')),
    priority       text NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
    title          text NOT NULL,
    body           text NOT NULL,
    reason         text NOT NULL,
    owner_id       text,
    owner_email    text,
    queue          text,
    due_date       date NOT NULL,
    channels       text[] NOT NULL,
    five_w1h       jsonb NOT NULL,
    crm_task_id    text,
    pushed_at      timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    closed_at      timestamptz,
    close_reason   text
);
CREATE UNIQUE INDEX csm_tasks_one_open_per_play_and_account ON marts.csm_tasks (dedup_key) WHERE status = 'open';
CREATE UNIQUE INDEX csm_tasks_crm_task_id ON marts.csm_tasks (crm_task_id) WHERE crm_task_id IS NOT NULL;
CREATE INDEX ON marts.csm_tasks (play, account_id, closed_at);
COMMENT ON TABLE marts.csm_tasks IS 'Tasks for CSMs from playbooks; at most one open task per play and account.';
COMMENT ON COLUMN marts.csm_tasks.dedup_key IS 'play/account: the database refuses a second open task with the same key.';
COMMENT ON COLUMN marts.csm_tasks.reason IS 'Why the play fired, in words (the condition and the values that met it).';
COMMENT ON COLUMN marts.csm_tasks.owner_id IS 'The account''s CSM (CRM owner id); NULL when the task went to the fallback queue.';
COMMENT ON COLUMN marts.csm_tasks.five_w1h IS 'who, what, when, where, why, how: what a junior CSM needs to act without asking.';
COMMENT ON COLUMN marts.csm_tasks.crm_task_id IS 'Id of the task in the CRM once pushed; set once, so a retry never posts twice.';

CREATE TABLE marts.csm_task_history (
    task_id   bigint NOT NULL REFERENCES marts.csm_tasks,
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    event     text NOT NULL CHECK (event IN ('created', 'pushed', 'completed', 'dismissed', 'auto_closed', 'reopened', 'in_digest')),
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ON marts.csm_task_history (task_id, at);
COMMENT ON TABLE marts.csm_task_history IS 'Everything that happened to a task, in order.';

CREATE TABLE meta.digests_sent (
    owner_email text NOT NULL,
    day         date NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('slack', 'email')),
    tasks       int  NOT NULL,
    sent_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_email, day, channel)
);
COMMENT ON TABLE meta.digests_sent IS 'One digest per CSM, channel and day: a rerun finds its row and sends nothing.';
