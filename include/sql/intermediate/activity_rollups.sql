-- Usage rollups of the UTC days first_day .. last_day, each day rewritten whole
-- (delete + insert), so rerunning a day gives the same rows. The daily build
-- passes one day (read through the occurred_at index); a full rebuild passes
-- every day up to its end and reads the events ONCE: one hash aggregate by
-- day, account and user (work_mem is set by the caller), instead of a pass per day.
-- The caller analyses what this wrote right after, inside the transaction,
-- when it changed a lot (customer_health.kpis): the KPI statement reads it
-- next, and autovacuum would not (it is off, and would come too late anyway).
-- Next to the rollups, and in the same transaction: the days that have them
-- (rolled_up_days) and the carried-forward state (account_day_state) of every
-- day from state_from on: the daily build passes its first day (the later
-- days' state follows from the rewritten ones), a rebuild NULL (all of it,
-- from the rollups alone).
-- Event names must have their bits first (event_names.sql).
-- Parameters: first_day, last_day, state_from, login_event, core_actions.

DELETE FROM intermediate.user_day_activity
WHERE day BETWEEN %(first_day)s::date AND %(last_day)s::date;

DELETE FROM intermediate.account_day_activity
WHERE day BETWEEN %(first_day)s::date AND %(last_day)s::date;

WITH user_days AS MATERIALIZED (
    -- One row per account, user and day (user_id NULL: events without a user).
    SELECT (e.occurred_at AT TIME ZONE 'UTC')::date                             AS day,
           e.account_id,
           e.user_id,
           count(*)::int                                                        AS events,
           count(*) FILTER (WHERE e.event_name = %(login_event)s::text)::int    AS logins,
           coalesce(sum(e.duration_seconds) FILTER (WHERE e.event_name = %(login_event)s::text), 0) AS session_seconds,
           count(*) FILTER (WHERE e.event_name = ANY (%(core_actions)s::text[]))::int AS core_actions,
           bit_or(1::bigint << n.bit)                                           AS feature_bits
    FROM staging.usage_events AS e
    JOIN intermediate.event_names AS n ON n.event_name = e.event_name
    WHERE e.occurred_at >= %(first_day)s::date::timestamp AT TIME ZONE 'UTC'
      AND e.occurred_at <  (%(last_day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
    GROUP BY 1, 2, 3
),
users_written AS (
    INSERT INTO intermediate.user_day_activity (day, account_id, user_id, events)
    SELECT day, account_id, user_id, events
    FROM user_days
    WHERE user_id IS NOT NULL
    ORDER BY day  -- day-ordered pages keep the BRIN on day selective
)
INSERT INTO intermediate.account_day_activity
    (day, account_id, events, logins, session_ms, core_actions, active_users, feature_bits)
SELECT day, account_id, sum(events), sum(logins), round(sum(session_seconds) * 1000), sum(core_actions),
       count(user_id), bit_or(feature_bits)
FROM user_days
GROUP BY day, account_id
ORDER BY day;

DELETE FROM intermediate.rolled_up_days
WHERE day BETWEEN %(first_day)s::date AND %(last_day)s::date;

INSERT INTO intermediate.rolled_up_days (day)
SELECT DISTINCT a.day
FROM intermediate.account_day_activity AS a
WHERE a.day BETWEEN %(first_day)s::date AND %(last_day)s::date;

DELETE FROM intermediate.account_day_state
WHERE day >= coalesce(%(state_from)s::date, '-infinity'::date);

INSERT INTO intermediate.account_day_state (account_id, day, last_login_day, feature_bits_so_far)
SELECT a.account_id, a.day,
       greatest(max(CASE WHEN a.logins > 0 THEN a.day END) OVER so_far, p.last_login_day),
       bit_or(a.feature_bits) OVER so_far | coalesce(p.feature_bits_so_far, 0)
FROM intermediate.account_day_activity AS a
-- Each account's state before state_from: its latest row left, one probe of
-- the primary key per rollup row, whatever the plan's estimates (the new day
-- is not in the statistics yet: joined to a DISTINCT of the accounts instead,
-- the planner took it for one row and probed 4,485 x 4,485 times, 58 s).
-- A rebuild (state_from NULL) deleted every state row: no probe at all.
LEFT JOIN LATERAL (
    SELECT s.last_login_day, s.feature_bits_so_far
    FROM intermediate.account_day_state AS s
    WHERE s.account_id = a.account_id AND %(state_from)s::date IS NOT NULL
    ORDER BY s.day DESC
    LIMIT 1
) AS p ON true
WHERE a.day >= coalesce(%(state_from)s::date, '-infinity'::date)
WINDOW so_far AS (PARTITION BY a.account_id ORDER BY a.day ROWS UNBOUNDED PRECEDING)
ORDER BY a.day;

-- BRIN ranges written just now are summarised here, not by autovacuum, so the
-- reads by day skip them right away.
SELECT brin_summarize_new_values('intermediate.user_day_activity_day_brin'),
       brin_summarize_new_values('intermediate.account_day_activity_day_brin'),
       brin_summarize_new_values('intermediate.account_day_state_day_brin');

