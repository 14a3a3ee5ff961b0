-- The usage windows of ONE day (start = end = D), straight from the rollups of
-- its 60 days grouped by account, with no grid: what the daily build runs, so
-- its cost follows one day's accounts and 60 days of rollups, not history.
-- Composed into marts/account_daily_kpis.sql in place of kpi_windows/grid.sql;
-- the same definitions (the windows of D are [D-6, D], [D-29, D] and the 30
-- days before, [D-59, D-30]), and the same rows (tested: daily builds against
-- a rebuild, whole tables). Gives `windowed`, as grid.sql does.
usage_60d AS (
    -- The 60 window days and the grid's first day (D-60), whose login and
    -- milestones count for "so far" but for no window.
    SELECT a.account_id,
           sum(a.logins) FILTER (WHERE a.day > b.last_day - 7)                             AS logins_7d,
           sum(a.logins) FILTER (WHERE a.day > b.last_day - 30)                            AS logins_30d,
           sum(a.logins) FILTER (WHERE a.day > b.last_day - 60 AND a.day <= b.last_day - 30) AS logins_prev_30d,
           count(*) FILTER (WHERE a.day > b.last_day - 7)                                  AS active_days_7d,
           count(*) FILTER (WHERE a.day > b.last_day - 30)                                 AS active_days_30d,
           sum(a.core_actions) FILTER (WHERE a.day > b.last_day - 30)                      AS core_actions_30d,
           sum(a.session_ms) FILTER (WHERE a.day > b.last_day - 30)                        AS session_ms_30d,
           bit_or(a.feature_bits) FILTER (WHERE a.day > b.last_day - 30)                   AS feature_bits_30d,
           max(a.day) FILTER (WHERE a.logins > 0)                                          AS last_login_day,
           bit_or(a.feature_bits & %(milestone_bits)s::bigint)                             AS milestone_bits
    FROM intermediate.account_day_activity AS a, bounds AS b
    WHERE a.day BETWEEN b.from_day AND b.last_day
    GROUP BY a.account_id
),
user_60d AS (
    -- Each user's last active day in the 30 days, and whether active in the 30 before.
    SELECT ud.account_id,
           max(ud.day) AS last_active_day,
           bool_or(ud.day <= b.last_day - 30) AS active_before
    FROM intermediate.user_day_activity AS ud, bounds AS b
    WHERE ud.day > b.last_day - 60 AND ud.day <= b.last_day
    GROUP BY ud.account_id, ud.user_id
),
users_60d AS (
    SELECT u.account_id,
           count(*) FILTER (WHERE u.last_active_day > b.last_day - 7)  AS active_users_7d,
           count(*) FILTER (WHERE u.last_active_day > b.last_day - 30) AS active_users_30d,
           count(*) FILTER (WHERE u.active_before)                     AS active_users_prev_30d
    FROM user_60d AS u, bounds AS b
    GROUP BY u.account_id
),
latest_change AS (
    SELECT c.account_id, max(c.day) AS as_of_day FROM changes AS c GROUP BY c.account_id
),
windowed AS (
    SELECT a.account_no, b.last_day AS day,
           greatest(u.last_login_day, h.last_login_day)                              AS last_login_day,
           coalesce(u.milestone_bits, 0) | coalesce(h.milestone_bits, 0)             AS milestone_bits,
           coalesce(u.feature_bits_30d, 0)                                           AS feature_bits_30d,
           lc.as_of_day,
           coalesce(u.logins_7d, 0)             AS logins_7d,
           coalesce(u.logins_30d, 0)            AS logins_30d,
           coalesce(u.logins_prev_30d, 0)       AS logins_prev_30d,
           coalesce(u.active_days_7d, 0)        AS active_days_7d,
           coalesce(u.active_days_30d, 0)       AS active_days_30d,
           coalesce(u.core_actions_30d, 0)      AS core_actions_30d,
           coalesce(u.session_ms_30d, 0)        AS session_ms_30d,
           coalesce(n.active_users_7d, 0)       AS active_users_7d,
           coalesce(n.active_users_30d, 0)      AS active_users_30d,
           coalesce(n.active_users_prev_30d, 0) AS active_users_prev_30d
    FROM accounts AS a
    CROSS JOIN bounds AS b
    LEFT JOIN usage_60d AS u ON u.account_id = a.account_id
    LEFT JOIN users_60d AS n ON n.account_id = a.account_id
    LEFT JOIN history AS h ON h.account_id = a.account_id
    LEFT JOIN latest_change AS lc ON lc.account_id = a.account_id
)
