-- Usage rollups of the UTC days first_day .. last_day, each day rewritten whole
-- (delete + insert), so rerunning a day gives the same rows. The daily build
-- passes one day; a full rebuild passes every day up to its end, in ONE pass
-- over the events: day by day through the occurred_at index, so each day's
-- grouping stays small enough to run in cache.
-- Event names must have their bits first (event_names.sql).
-- Parameters: first_day, last_day, login_event, core_actions.

DELETE FROM intermediate.user_day_activity
WHERE day BETWEEN %(first_day)s::date AND %(last_day)s::date;

DELETE FROM intermediate.account_day_activity
WHERE day BETWEEN %(first_day)s::date AND %(last_day)s::date;

WITH days AS (
    SELECT d::date AS day
    FROM generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day') AS d
),
user_days AS MATERIALIZED (
    -- One row per account, user and day (user_id NULL: events without a user).
    SELECT days.day, u.account_id, u.user_id, u.events, u.logins, u.session_seconds, u.core_actions, u.feature_bits
    FROM days
    CROSS JOIN LATERAL (
        SELECT e.account_id,
               e.user_id,
               count(*)::int                                                        AS events,
               count(*) FILTER (WHERE e.event_name = %(login_event)s::text)::int    AS logins,
               coalesce(sum(e.duration_seconds) FILTER (WHERE e.event_name = %(login_event)s::text), 0) AS session_seconds,
               count(*) FILTER (WHERE e.event_name = ANY (%(core_actions)s::text[]))::int AS core_actions,
               bit_or(1::bigint << n.bit)                                           AS feature_bits
        FROM staging.usage_events AS e
        JOIN intermediate.event_names AS n ON n.event_name = e.event_name
        WHERE e.occurred_at >= days.day::timestamp AT TIME ZONE 'UTC'
          AND e.occurred_at <  (days.day + 1)::timestamp AT TIME ZONE 'UTC'
        GROUP BY e.account_id, e.user_id
    ) AS u
),
users_written AS (
    INSERT INTO intermediate.user_day_activity (day, account_id, user_id, events)
    SELECT day, account_id, user_id, events
    FROM user_days
    WHERE user_id IS NOT NULL
)
INSERT INTO intermediate.account_day_activity
    (day, account_id, events, logins, session_ms, core_actions, active_users, feature_bits)
SELECT day, account_id, sum(events), sum(logins), round(sum(session_seconds) * 1000), sum(core_actions),
       count(user_id), bit_or(feature_bits)
FROM user_days
GROUP BY day, account_id;

-- BRIN ranges written just now are summarised here, not by autovacuum, so the
-- day-by-day reads of a rebuild skip them right away.
SELECT brin_summarize_new_values('intermediate.user_day_activity_day_brin'),
       brin_summarize_new_values('intermediate.account_day_activity_day_brin');
