-- KPI rows of every CRM account for the days start .. end, replacing what those
-- days had: one day for the daily build, any range for a rebuild.
--
-- Usage windows (a fragment composed in below by customer_health.kpis): a range
-- is computed on a dense account x day grid (kpi_windows/grid.sql), one day
-- straight from its 60 days of rollups grouped by account (kpi_windows/one_day.sql);
-- the daily path and a rebuild give the same rows (tested, whole tables). The
-- last login and the milestones before the 60 days come from the state the
-- builds carry forward (intermediate.account_day_state), never from older rollups.
-- Everything else (seats, contracts, surveys, sentiment) from small tables:
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
    SELECT %(start)s::date AS first_day, %(end)s::date AS last_day, %(start)s::date - 60 AS from_day,
           -- The carried state each account's row starts from (`history`): for a
           -- range, its latest row before the grid, which the grid's days carry
           -- forward; for one day, its latest row up to that day. The state is
           -- "so far" (max last login, OR of the features), so that row already
           -- holds the window's logins and milestones and gives the same values,
           -- and it is the row the rollups just wrote or one of the last days',
           -- in cache: the probe before the grid read rows 60 days old, 0.2-0.7 s
           -- at 365 days of history and nothing at 36, so one day was not flat.
           CASE WHEN %(start)s::date = %(end)s::date THEN %(end)s::date + 1
                ELSE %(start)s::date - 60 END AS state_before
),
account_versions AS (
    -- Each CRM account version known on some day of the output, with those days.
    SELECT h.*, (h.created_at AT TIME ZONE 'UTC')::date AS created_on,
           history.known_days(h.valid_from, h.valid_to) AS known
    FROM history.crm_accounts AS h
    -- Constant bounds, not a join with `bounds`: with the expression statistics
    -- of known_days (migration V066) the planner then knows how many accounts
    -- there are; estimated from a join it guessed 100 and planned every join
    -- after it for 100 accounts.
    WHERE history.known_days(h.valid_from, h.valid_to) && daterange(%(start)s::date, %(end)s::date, '[]')
),
accounts AS (
    SELECT v.account_id, row_number() OVER (ORDER BY v.account_id) AS account_no
    -- From the table, not from account_versions: its statistics say how many accounts.
    FROM (SELECT DISTINCT h.account_id
          FROM history.crm_accounts AS h
          WHERE history.known_days(h.valid_from, h.valid_to) && daterange(%(start)s::date, %(end)s::date, '[]')) AS v
),
history AS (
    -- Before the grid: the last login and the milestones reached, from the
    -- state the builds carry forward (latest row before bounds.state_before,
    -- one probe of the primary key per account): never a read of the older rollups.
    SELECT a.account_id, b.from_day AS day, s.last_login_day,
           s.feature_bits_so_far & %(milestone_bits)s::bigint AS milestone_bits
    FROM accounts AS a
    CROSS JOIN bounds AS b
    CROSS JOIN LATERAL (
        SELECT p.last_login_day, p.feature_bits_so_far
        FROM intermediate.account_day_state AS p
        WHERE p.account_id = a.account_id AND p.day < b.state_before
        ORDER BY p.day DESC
        LIMIT 1
    ) AS s
),
user_versions AS NOT MATERIALIZED (
    -- The days each user version counts as an issued seat: from its creation
    -- (or the day the version became known) until its deactivation (not issued
    -- at that day's end) or the day a later load changed or deleted it.
    -- greatest / least skip NULLs: an open bound does not limit.
    -- Only versions known on some output day (constant bounds, as in
    -- account_versions: the expression statistics of migration V085
    -- size it right): one known only before `start` adds and removes its seat
    -- before any output day, one known only after `end` issues none by then.
    -- So the daily build reads the versions of its day, not all of CRM history.
    SELECT u.account_id,
           greatest((u.created_at AT TIME ZONE 'UTC')::date, lower(u.known)) AS issued_from,
           least((u.deactivated_at AT TIME ZONE 'UTC')::date, upper(u.known)) AS issued_until
    FROM (SELECT h.*, history.known_days(h.valid_from, h.valid_to) AS known
          FROM history.users AS h
          WHERE history.known_days(h.valid_from, h.valid_to) && daterange(%(start)s::date, %(end)s::date, '[]')) AS u
    WHERE u.created_at IS NOT NULL
),
seat_changes AS (
    -- The seats issued at the end of `start`, counted per account and put on
    -- the grid's first day (every output day is on or after `start`), then +1
    -- the day a seat starts counting and -1 the day it stops, for the days
    -- after `start` only: one row per account for the daily build (start =
    -- end), instead of a +1 / -1 per user version summed over all of history.
    -- Not materialized, and the changes after `start` skipped outright when
    -- there are no such days: one pass over the versions for one day.
    SELECT u.account_id, b.from_day AS on_day, count(*) AS seats
    FROM user_versions AS u, bounds AS b
    WHERE u.issued_from <= b.first_day AND (u.issued_until IS NULL OR u.issued_until > b.first_day)
    GROUP BY u.account_id, b.from_day
    UNION ALL
    SELECT x.account_id, x.on_day, sum(x.seats)
    FROM (SELECT u.account_id, u.issued_from AS on_day, 1 AS seats
          FROM user_versions AS u
          WHERE u.issued_until IS NULL OR u.issued_from < u.issued_until
          UNION ALL
          SELECT u.account_id, u.issued_until, -1
          FROM user_versions AS u
          WHERE u.issued_from < u.issued_until) AS x
    CROSS JOIN bounds AS b
    WHERE x.on_day > b.first_day AND x.on_day <= b.last_day
      AND %(start)s::date < %(end)s::date
    GROUP BY x.account_id, x.on_day
),
licence_versions AS (
    SELECT h.account_id, h.seats, history.known_days(h.valid_from, h.valid_to) AS known
    FROM history.licences AS h
    -- Only what the output days can join (l.known @> day below).
    WHERE history.known_days(h.valid_from, h.valid_to) && daterange(%(start)s::date, %(end)s::date, '[]')
),
expansion_changes AS (
    -- An upsell or cross-sell counts for 365 days from the day it closed.
    SELECT x.account_id, c.on_day, c.expansions
    FROM staging.crm_expansions AS x
    CROSS JOIN LATERAL (VALUES (x.closed_at, 1), (x.closed_at + 365, -1)) AS c(on_day, expansions)
    WHERE x.kind IN ('upsell', 'cross_sell')
      -- One that stopped counting by `start` adds and removes itself before any output day.
      AND x.closed_at + 365 > %(start)s::date
),
csat_changes AS (
    -- A CSAT answer counts for 90 days from the day it was submitted.
    SELECT s.account_id, c.on_day, c.sign * s.answer AS csat_sum, c.sign AS csat_count
    FROM staging.survey_responses AS s
    CROSS JOIN LATERAL (VALUES ((s.submitted_at AT TIME ZONE 'UTC')::date, 1),
                               ((s.submitted_at AT TIME ZONE 'UTC')::date + 90, -1)) AS c(on_day, sign)
    WHERE s.survey = 'csat'
      -- As for expansions: one whose 90 days ended by `start` counts on no output day.
      AND (s.submitted_at AT TIME ZONE 'UTC')::date + 90 > %(start)s::date
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
    -- Only versions known on some output day: the versions a state reads are
    -- those known on its day, and each version's first and last known days are
    -- change days, so the latest change day before an output day knows the
    -- same versions as that day whether or not the others are read.
    FROM (SELECT h.*, history.known_days(h.valid_from, h.valid_to) AS known
          FROM history.crm_contracts AS h
          WHERE history.known_days(h.valid_from, h.valid_to) && daterange(%(start)s::date, %(end)s::date, '[]')) AS c
),
contract_change_days AS (
    -- Days on which an account's contract figures can change (a later load
    -- changing or deleting a contract is one).
    SELECT account_id, start_date AS on_day FROM contracts
    UNION SELECT account_id, end_date FROM contracts
    UNION SELECT account_id, end_date + 1 FROM contracts
    UNION SELECT account_id, status_known_on FROM contracts
    UNION SELECT account_id, known_from FROM contracts WHERE known_from > '-infinity'::date
    UNION SELECT account_id, known_to FROM contracts WHERE known_to < 'infinity'::date
),
contract_days AS (
    -- The change days the output can read: those of the grid, and before it
    -- only each account's latest (the one folded into the grid's first day).
    SELECT d.account_id, d.on_day
    FROM contract_change_days AS d, bounds AS b
    WHERE d.on_day BETWEEN b.from_day AND b.last_day
    UNION ALL
    SELECT d.account_id, max(d.on_day)
    FROM contract_change_days AS d, bounds AS b
    WHERE d.on_day < b.from_day
    GROUP BY d.account_id
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
{usage_windows}
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

-- The scoring, the gate and the playbooks read the new day's rows by day next.
-- Autovacuum is not relied on, and one new day of many never reaches its
-- analyze threshold, yet a day missing from the statistics is estimated at one
-- row and joined by nested loops. The day only, from a sample of 3,000 rows
-- (migration V100): 70 ms at 20,000 accounts x 365 days, where the default
-- sample of the key columns took 1-1.5 s and grew with history. The whole
-- table is analysed when a tenth of it changed (customer_health.kpis).
ANALYZE marts.account_daily_kpis (day);
