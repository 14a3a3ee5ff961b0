-- KPI rows of every CRM account for the days start .. end, replacing what those
-- days had: one day for the daily build, any range for a rebuild, same SQL.
--
-- All days are computed at once on a dense account x day grid that starts 60
-- days before `start` (the 30-day windows and the 30 days before them):
-- * usage sums: running totals over the grid; a window is the difference of two
--   running totals (logins_30d = logins so far - logins so far 30 days earlier);
-- * distinct users: from each user's active days (user_day_activity) we count,
--   per day, users entering the 7- / 30-day count (no activity in the 7 / 30
--   days before) and leaving it (no activity in the 7 / 30 days after); active
--   users = entered so far - left so far. Work grows with user-days, not 30x;
-- * distinct features: the OR of each day's feature bits over 30 rows, done as
--   5-day ORs combined 6 at a time, then counting the bits;
-- * everything else (seats, contracts, surveys, sentiment) from small tables:
--   the days on which a value changes, history before the grid folded into its
--   first day, carried forward by running sums and "latest change" markers.
-- Nothing dated after a day is used for that day, and CRM accounts, contracts,
-- licences and users are read from history.<stream> as the warehouse knew them
-- at the end of each day (history.known_days, migration V040): a later load that
-- changes seats, ARR or a contract, or deletes a user, never changes a past day.
-- Before a stream's first load its earliest version stands (the source keeps no
-- history); the evaluation flags such days (meta.snapshot_history_start).
-- Parameters: start, end, login_bits, milestone_bits.

DELETE FROM marts.account_daily_kpis
WHERE day BETWEEN %(start)s::date AND %(end)s::date;

INSERT INTO marts.account_daily_kpis (
    account_id, day, parent_account_id, csm_owner_id, employees, industry, region, lifecycle_stage, tenure_days,
    logins_7d, logins_30d, active_days_7d, active_days_30d, active_users_7d, active_users_30d,
    licensed_seats, issued_seats, seat_utilisation, logins_per_seat_30d, features_used_30d,
    core_actions_30d, core_actions_per_active_user_30d, session_minutes_30d, avg_session_minutes_30d,
    logins_change_30d_pct, active_users_change_30d_pct, days_since_last_login, milestones_reached,
    arr, days_to_renewal, contract_status, expansions_12m, nps_latest, nps_latest_at, csat_avg_90d,
    csm_sentiment_latest, csm_sentiment_at, core_actions_per_employee_30d)
WITH bounds AS (
    SELECT %(start)s::date AS first_day, %(end)s::date AS last_day, %(start)s::date - 60 AS from_day
),
account_versions AS (
    -- Each CRM account version known on some day of the output, with those days.
    SELECT h.*, (h.created_at AT TIME ZONE 'UTC')::date AS created_on,
           history.known_days(h.valid_from, h.valid_to) AS known
    FROM history.crm_accounts AS h, bounds AS b
    WHERE history.known_days(h.valid_from, h.valid_to) && daterange(b.first_day, b.last_day, '[]')
),
accounts AS (
    SELECT v.account_id, row_number() OVER (ORDER BY v.account_id) AS account_no
    FROM (SELECT DISTINCT account_id FROM account_versions) AS v
),
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
history AS (
    -- Before the grid: the last login and the milestones reached, from the
    -- state the builds carry forward (latest row before the grid, one probe of
    -- the primary key per account): never a read of the older rollups.
    SELECT a.account_id, b.from_day AS day, s.last_login_day,
           s.feature_bits_so_far & %(milestone_bits)s::bigint AS milestone_bits
    FROM accounts AS a
    CROSS JOIN bounds AS b
    CROSS JOIN LATERAL (
        SELECT p.last_login_day, p.feature_bits_so_far
        FROM intermediate.account_day_state AS p
        WHERE p.account_id = a.account_id AND p.day < b.from_day
        ORDER BY p.day DESC
        LIMIT 1
    ) AS s
),
user_versions AS (
    -- The days each user version counts as an issued seat: from its creation
    -- (or the day the version became known) until its deactivation (not issued
    -- at that day's end) or the day a later load changed or deleted it.
    -- greatest / least skip NULLs: an open bound does not limit.
    SELECT u.account_id,
           greatest((u.created_at AT TIME ZONE 'UTC')::date, lower(u.known)) AS issued_from,
           least((u.deactivated_at AT TIME ZONE 'UTC')::date, upper(u.known)) AS issued_until
    FROM (SELECT h.*, history.known_days(h.valid_from, h.valid_to) AS known FROM history.users AS h) AS u
    WHERE u.created_at IS NOT NULL AND NOT isempty(u.known)
),
seat_changes AS (
    -- +1 the day a seat starts counting, -1 the day it stops.
    SELECT u.account_id, u.issued_from AS on_day, 1 AS seats
    FROM user_versions AS u
    WHERE u.issued_until IS NULL OR u.issued_from < u.issued_until
    UNION ALL
    SELECT u.account_id, u.issued_until, -1
    FROM user_versions AS u
    WHERE u.issued_from < u.issued_until
),
licence_versions AS (
    SELECT h.account_id, h.seats, history.known_days(h.valid_from, h.valid_to) AS known
    FROM history.licences AS h
    WHERE NOT isempty(history.known_days(h.valid_from, h.valid_to))
),
expansion_changes AS (
    -- An upsell or cross-sell counts for 365 days from the day it closed.
    SELECT x.account_id, c.on_day, c.expansions
    FROM staging.crm_expansions AS x
    CROSS JOIN LATERAL (VALUES (x.closed_at, 1), (x.closed_at + 365, -1)) AS c(on_day, expansions)
    WHERE x.kind IN ('upsell', 'cross_sell')
),
csat_changes AS (
    -- A CSAT answer counts for 90 days from the day it was submitted.
    SELECT s.account_id, c.on_day, c.sign * s.answer AS csat_sum, c.sign AS csat_count
    FROM staging.survey_responses AS s
    CROSS JOIN LATERAL (VALUES ((s.submitted_at AT TIME ZONE 'UTC')::date, 1),
                               ((s.submitted_at AT TIME ZONE 'UTC')::date + 90, -1)) AS c(on_day, sign)
    WHERE s.survey = 'csat'
),
nps_days AS (
    -- The last NPS answer of each day that has one.
    SELECT DISTINCT ON (s.account_id, (s.submitted_at AT TIME ZONE 'UTC')::date)
           s.account_id, (s.submitted_at AT TIME ZONE 'UTC')::date AS on_day, s.answer, s.submitted_at
    FROM staging.survey_responses AS s
    WHERE s.survey = 'nps'
    ORDER BY s.account_id, (s.submitted_at AT TIME ZONE 'UTC')::date, s.submitted_at DESC, s.response_id DESC
),
sentiment_days AS (
    -- The last CSM sentiment entry of each day that has one.
    SELECT DISTINCT ON (s.account_id, (s.recorded_at AT TIME ZONE 'UTC')::date)
           s.account_id, (s.recorded_at AT TIME ZONE 'UTC')::date AS on_day, s.sentiment, s.recorded_at
    FROM staging.crm_sentiment AS s
    ORDER BY s.account_id, (s.recorded_at AT TIME ZONE 'UTC')::date, s.recorded_at DESC, s.entry_id DESC
),
contracts AS (
    -- Each contract version with the days it was known on [known_from, known_to),
    -- and when its status could be known: an outcome the CRM records later
    -- (renewed, churned, expanded) is hidden until the term ends, the CRM row
    -- carrying it was loaded, or (expanded) an expansion closed within the term.
    SELECT c.contract_id, c.account_id, c.start_date, c.end_date, c.arr, c.status,
           coalesce(lower(c.known), '-infinity'::date) AS known_from,
           coalesce(upper(c.known), 'infinity'::date) AS known_to,
           CASE WHEN c.status = 'active' THEN c.start_date
                ELSE least(c.end_date, (c.loaded_at AT TIME ZONE 'UTC')::date,
                           CASE WHEN c.status = 'expanded' THEN (
                               SELECT min(x.closed_at) FROM staging.crm_expansions AS x
                               WHERE x.account_id = c.account_id
                                 AND x.closed_at >= c.start_date AND x.closed_at < c.end_date) END)
           END AS status_known_on
    FROM (SELECT h.*, history.known_days(h.valid_from, h.valid_to) AS known FROM history.crm_contracts AS h) AS c
    WHERE NOT isempty(c.known)
),
contract_days AS (
    -- Days on which an account's contract figures can change (a later load
    -- changing or deleting a contract is one).
    SELECT account_id, start_date AS on_day FROM contracts
    UNION SELECT account_id, end_date FROM contracts
    UNION SELECT account_id, end_date + 1 FROM contracts
    UNION SELECT account_id, status_known_on FROM contracts
    UNION SELECT account_id, known_from FROM contracts WHERE known_from > '-infinity'::date
    UNION SELECT account_id, known_to FROM contracts WHERE known_to < 'infinity'::date
),
contract_states AS (
    -- ARR, renewal date and status from each such day on, from the contract
    -- versions known that day (none: all NULL). A contract covers
    -- start_date <= day < end_date (end_date is the renewal date, when the next term starts).
    SELECT d.account_id, d.on_day,
           CASE WHEN bool_or(c.start_date <= d.on_day)
                THEN coalesce(sum(c.arr) FILTER (WHERE c.start_date <= d.on_day AND d.on_day < c.end_date), 0)
           END AS arr,
           min(c.end_date) FILTER (WHERE c.start_date <= d.on_day AND c.end_date >= d.on_day) AS renewal_date,
           coalesce(
               (array_agg(CASE WHEN d.on_day >= c.status_known_on THEN c.status ELSE 'active' END
                          ORDER BY c.start_date DESC, c.end_date DESC, c.contract_id DESC)
                    FILTER (WHERE c.start_date <= d.on_day AND d.on_day < c.end_date))[1],
               (array_agg(c.status ORDER BY c.end_date DESC, c.start_date DESC, c.contract_id DESC)
                    FILTER (WHERE c.start_date <= d.on_day))[1]) AS status
    FROM contract_days AS d
    LEFT JOIN contracts AS c
           ON c.account_id = d.account_id AND c.known_from <= d.on_day AND d.on_day < c.known_to
    GROUP BY d.account_id, d.on_day
),
changes AS (
    -- All of the above on one row per account and day; anything before the grid
    -- is folded into its first day (sums add up, "latest" markers keep the latest day).
    SELECT x.account_id, greatest(x.on_day, b.from_day) AS day,
           sum(x.seats) AS seats, sum(x.expansions) AS expansions,
           sum(x.csat_sum) AS csat_sum, sum(x.csat_count) AS csat_count,
           max(x.nps_day) AS nps_day, max(x.sentiment_day) AS sentiment_day, max(x.contract_day) AS contract_day,
           max(x.last_login_day) AS last_login_day, bit_or(x.milestone_bits) AS milestone_bits
    FROM (
        SELECT account_id, on_day, seats, 0 AS expansions, 0 AS csat_sum, 0 AS csat_count,
               NULL::date AS nps_day, NULL::date AS sentiment_day, NULL::date AS contract_day,
               NULL::date AS last_login_day, NULL::bigint AS milestone_bits
        FROM seat_changes
        UNION ALL SELECT account_id, on_day, 0, expansions, 0, 0, NULL, NULL, NULL, NULL, NULL FROM expansion_changes
        UNION ALL SELECT account_id, on_day, 0, 0, csat_sum, csat_count, NULL, NULL, NULL, NULL, NULL FROM csat_changes
        UNION ALL SELECT account_id, on_day, 0, 0, 0, 0, on_day, NULL, NULL, NULL, NULL FROM nps_days
        UNION ALL SELECT account_id, on_day, 0, 0, 0, 0, NULL, on_day, NULL, NULL, NULL FROM sentiment_days
        UNION ALL SELECT account_id, on_day, 0, 0, 0, 0, NULL, NULL, on_day, NULL, NULL FROM contract_states
        UNION ALL SELECT account_id, day, 0, 0, 0, 0, NULL, NULL, NULL, last_login_day, milestone_bits FROM history
    ) AS x
    CROSS JOIN bounds AS b
    WHERE x.on_day <= b.last_day
    GROUP BY x.account_id, greatest(x.on_day, b.from_day)
),
as_of AS (
    -- The values from each change day on (few rows: carried forward here, not on the grid).
    SELECT c.account_id, c.day,
           coalesce(sum(c.seats) OVER so_far, 0)      AS issued_seats,
           coalesce(sum(c.expansions) OVER so_far, 0) AS expansions_12m,
           sum(c.csat_sum) OVER so_far   AS csat_sum_90d,
           sum(c.csat_count) OVER so_far AS csat_count_90d,
           max(c.nps_day) OVER so_far       AS nps_day,
           max(c.sentiment_day) OVER so_far AS sentiment_day,
           max(c.contract_day) OVER so_far  AS contract_day
    FROM changes AS c
    WINDOW so_far AS (PARTITION BY c.account_id ORDER BY c.day ROWS UNBOUNDED PRECEDING)
),
as_of_values AS (
    SELECT o.account_id, o.day, o.issued_seats, o.expansions_12m,
           (o.csat_sum_90d / NULLIF(o.csat_count_90d, 0))::float8 AS csat_avg_90d,
           n.answer AS nps_latest, n.submitted_at AS nps_latest_at,
           s.sentiment AS csm_sentiment_latest, s.recorded_at AS csm_sentiment_at,
           cs.arr, cs.renewal_date, cs.status AS contract_status
    FROM as_of AS o
    LEFT JOIN nps_days AS n ON n.account_id = o.account_id AND n.on_day = o.nps_day
    LEFT JOIN sentiment_days AS s ON s.account_id = o.account_id AND s.on_day = o.sentiment_day
    LEFT JOIN contract_states AS cs ON cs.account_id = o.account_id AND cs.on_day = o.contract_day
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
SELECT a.account_id, w.day,
       av.parent_account_id, av.csm_owner_id, av.employees, av.industry, av.region, av.lifecycle_stage,
       w.day - av.created_on                                            AS tenure_days,
       w.logins_7d, w.logins_30d, w.active_days_7d, w.active_days_30d, w.active_users_7d, w.active_users_30d,
       l.seats                                                          AS licensed_seats,
       coalesce(v.issued_seats, 0)                                      AS issued_seats,
       w.active_users_30d::float8 / NULLIF(l.seats, 0)                  AS seat_utilisation,
       w.logins_30d::float8 / NULLIF(l.seats, 0)                        AS logins_per_seat_30d,
       bit_count((w.feature_bits_30d & ~%(login_bits)s::bigint)::bit(64)) AS features_used_30d,
       w.core_actions_30d,
       w.core_actions_30d::float8 / NULLIF(w.active_users_30d, 0)       AS core_actions_per_active_user_30d,
       w.session_ms_30d::float8 / 60000                                 AS session_minutes_30d,
       w.session_ms_30d::float8 / 60000 / NULLIF(w.logins_30d, 0)       AS avg_session_minutes_30d,
       w.logins_30d::float8 / NULLIF(w.logins_prev_30d, 0) - 1          AS logins_change_30d_pct,
       w.active_users_30d::float8 / NULLIF(w.active_users_prev_30d, 0) - 1 AS active_users_change_30d_pct,
       w.day - w.last_login_day                                         AS days_since_last_login,
       bit_count(w.milestone_bits::bit(64))                             AS milestones_reached,
       v.arr,
       v.renewal_date - w.day                                           AS days_to_renewal,
       v.contract_status,
       coalesce(v.expansions_12m, 0)                                    AS expansions_12m,
       v.nps_latest, v.nps_latest_at, v.csat_avg_90d, v.csm_sentiment_latest, v.csm_sentiment_at,
       w.core_actions_30d::float8 / NULLIF(av.employees, 0)             AS core_actions_per_employee_30d
FROM windowed AS w
CROSS JOIN bounds AS b
JOIN accounts AS a ON a.account_no = w.account_no
-- The account as known that day: none after it was deleted from the CRM.
JOIN account_versions AS av ON av.account_id = a.account_id AND av.known @> w.day
LEFT JOIN licence_versions AS l ON l.account_id = a.account_id AND l.known @> w.day
LEFT JOIN as_of_values AS v ON v.account_id = a.account_id AND v.day = w.as_of_day
WHERE w.day >= b.first_day
  AND (w.day >= av.created_on OR av.created_on IS NULL);
