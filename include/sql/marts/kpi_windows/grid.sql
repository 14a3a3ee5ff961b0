-- The usage windows of start .. end on a dense account x day grid that starts
-- 60 days before `start` (composed into marts/account_daily_kpis.sql as
-- {usage_windows} for a range; one day takes kpi_windows/one_day.sql):
-- * usage sums: running totals over the grid; a window is the difference of two
--   running totals (logins_30d = logins so far - logins so far 30 days earlier);
-- * distinct users: from each user's active days (user_day_activity) we count,
--   per day, users entering the 7- / 30-day count (no activity in the 7 / 30
--   days before) and leaving it (no activity in the 7 / 30 days after); active
--   users = entered so far - left so far. Work grows with user-days, not 30x;
-- * distinct features: the OR of each day's feature bits over 30 rows, done as
--   5-day ORs combined 6 at a time, then counting the bits.
-- Gives `windowed`: account_no, day, the window sums, last_login_day,
-- milestone_bits, feature_bits_30d and as_of_day (the latest change day).
grid AS (
    -- Every account on every day of the grid (an integer series with constant
    -- bounds, so that the planner knows how big the grid is).
    SELECT a.account_no, a.account_id, b.from_day + g.i AS day
    FROM accounts AS a
    CROSS JOIN bounds AS b
    CROSS JOIN generate_series(0, %(end)s::date - %(start)s::date + 60) AS g(i)
),
activity AS (
    SELECT a.*
    FROM intermediate.account_day_activity AS a, bounds AS b
    WHERE a.day BETWEEN b.from_day AND b.last_day
),
user_days AS (
    -- Each user's active days, in order (the ORDER BY inside array_agg, not
    -- the order rows arrive in, which a plan is free to change).
    SELECT ud.account_id, ud.user_id, array_agg(ud.day ORDER BY ud.day) AS days
    FROM intermediate.user_day_activity AS ud, bounds AS b
    WHERE ud.day BETWEEN b.from_day AND b.last_day
    GROUP BY ud.account_id, ud.user_id
),
user_active_days AS (
    -- Every active day of a user with the user's previous and next active day.
    SELECT ud.account_id, x.day, ud.days[x.i - 1] AS prev_day, ud.days[x.i + 1] AS next_day
    FROM user_days AS ud
    CROSS JOIN LATERAL unnest(ud.days) WITH ORDINALITY AS x(day, i)
),
user_runs AS (
    -- Per account and day: users entering the 7- / 30-day count that day, and
    -- users whose activity that day is their last for 7 / 30 days (they leave
    -- the count 7 / 30 days later).
    SELECT account_id, day,
           count(*) FILTER (WHERE prev_day IS NULL OR day - prev_day > 7)  AS enter_7,
           count(*) FILTER (WHERE prev_day IS NULL OR day - prev_day > 30) AS enter_30,
           count(*) FILTER (WHERE next_day IS NULL OR next_day - day > 7)  AS last_of_7,
           count(*) FILTER (WHERE next_day IS NULL OR next_day - day > 30) AS last_of_30
    FROM user_active_days
    GROUP BY account_id, day
),
day_facts AS (
    -- Everything known per account and day on one row (days with activity or a change).
    SELECT coalesce(a.account_id, c.account_id) AS account_id, coalesce(a.day, c.day) AS day,
           a.logins, a.core_actions, a.session_ms, a.feature_bits,
           r.enter_7, r.enter_30, r.last_of_7, r.last_of_30,
           c.account_id IS NOT NULL AS changed, c.last_login_day, c.milestone_bits AS history_milestone_bits
    FROM (activity AS a
          LEFT JOIN user_runs AS r ON r.account_id = a.account_id AND r.day = a.day)
    FULL JOIN changes AS c ON c.account_id = a.account_id AND c.day = a.day
),
daily AS (
    -- What each account did, every day of the grid.
    SELECT g.account_no, g.day,
           coalesce(f.logins, 0)                                   AS logins,
           (f.logins IS NOT NULL)::int                             AS active,
           coalesce(f.core_actions, 0)                             AS core_actions,
           coalesce(f.session_ms, 0)::float8                       AS session_ms,  -- whole ms: sums stay exact
           coalesce(f.feature_bits, 0)                             AS feature_bits,
           greatest(CASE WHEN f.logins > 0 THEN f.day END, f.last_login_day) AS login_day,
           coalesce(f.feature_bits & %(milestone_bits)s::bigint, 0) | coalesce(f.history_milestone_bits, 0) AS milestone_bits,
           coalesce(f.enter_7, 0) AS enter_7, coalesce(f.enter_30, 0) AS enter_30,
           coalesce(f.last_of_7, 0) AS last_of_7, coalesce(f.last_of_30, 0) AS last_of_30,
           CASE WHEN f.changed THEN g.day END                      AS change_day
    FROM grid AS g
    LEFT JOIN day_facts AS f ON f.account_id = g.account_id AND f.day = g.day
),
running AS (
    -- Totals so far. The ones the windows need are packed in one array, so that
    -- one lag per offset fetches them all (each lag is a pass over the rows).
    SELECT d.account_no, d.day,
           ARRAY[sum(d.logins) OVER so_far,                   -- 1 logins
                 sum(d.active) OVER so_far,                   -- 2 active days
                 sum(d.core_actions) OVER so_far,             -- 3 core actions
                 (sum(d.session_ms) OVER so_far)::bigint,     -- 4 session ms
                 sum(d.enter_7) OVER so_far,                  -- 5 users entered the 7-day count
                 sum(d.last_of_7) OVER so_far,                -- 6 users with a last day for 7 days
                 sum(d.enter_30) OVER so_far,                 -- 7 users entered the 30-day count
                 sum(d.last_of_30) OVER so_far]               -- 8 users with a last day for 30 days
               AS totals,
           d.feature_bits | lag(d.feature_bits, 1, 0::bigint) OVER so_far | lag(d.feature_bits, 2, 0::bigint) OVER so_far
             | lag(d.feature_bits, 3, 0::bigint) OVER so_far | lag(d.feature_bits, 4, 0::bigint) OVER so_far AS feature_bits_5d,
           max(d.login_day)          OVER so_far AS last_login_day,
           bit_or(d.milestone_bits)  OVER so_far AS milestone_bits,
           max(d.change_day)         OVER so_far AS as_of_day
    FROM daily AS d
    WINDOW so_far AS (PARTITION BY d.account_no ORDER BY d.day ROWS UNBOUNDED PRECEDING)
),
lagged AS (
    -- The totals 7, 30 and 60 days earlier, and the feature bits of the 30 days.
    SELECT r.*,
           coalesce(lag(r.totals, 7) OVER w, '{0,0,0,0,0,0,0,0}')  AS totals_7,
           coalesce(lag(r.totals, 30) OVER w, '{0,0,0,0,0,0,0,0}') AS totals_30,
           coalesce(lag(r.totals, 60) OVER w, '{0,0,0,0,0,0,0,0}') AS totals_60,
           r.feature_bits_5d | lag(r.feature_bits_5d, 5, 0::bigint) OVER w | lag(r.feature_bits_5d, 10, 0::bigint) OVER w
             | lag(r.feature_bits_5d, 15, 0::bigint) OVER w | lag(r.feature_bits_5d, 20, 0::bigint) OVER w
             | lag(r.feature_bits_5d, 25, 0::bigint) OVER w AS feature_bits_30d
    FROM running AS r
    WINDOW w AS (PARTITION BY r.account_no ORDER BY r.day)
),
windowed AS (
    -- Windows as differences of totals: the last 7 days, the last 30, the 30 before.
    SELECT l.account_no, l.day, l.last_login_day, l.milestone_bits, l.feature_bits_30d, l.as_of_day,
           l.totals[1] - l.totals_7[1]      AS logins_7d,
           l.totals[1] - l.totals_30[1]     AS logins_30d,
           l.totals_30[1] - l.totals_60[1]  AS logins_prev_30d,
           l.totals[2] - l.totals_7[2]      AS active_days_7d,
           l.totals[2] - l.totals_30[2]     AS active_days_30d,
           l.totals[3] - l.totals_30[3]     AS core_actions_30d,
           l.totals[4] - l.totals_30[4]     AS session_ms_30d,
           l.totals[5] - l.totals_7[6]      AS active_users_7d,
           l.totals[7] - l.totals_30[8]     AS active_users_30d,
           l.totals_30[7] - l.totals_60[8]  AS active_users_prev_30d
    FROM lagged AS l
)
