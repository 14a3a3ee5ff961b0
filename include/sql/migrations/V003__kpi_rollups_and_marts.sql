-- The daily KPI layer: per-day usage rollups (intermediate.*) and one row of
-- KPIs per account per day (marts.account_daily_kpis).
--
-- Rollups are written a whole day at a time (delete + insert of that day), so a
-- day can be rebuilt on its own; the KPI windows (7 / 30 days, the 30 before,
-- distinct users and features) are computed from them, never from raw events.
-- See plugins/customer_health/kpis.py for how the two build paths use them.

-- Stops a statement with a message a person can read (SQL has no RAISE of its own).
CREATE FUNCTION util.fail(message text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', message;
END $$;

-- Usage events are read a day at a time (the daily build, and the day-by-day
-- pass of a full rebuild): without this every day would scan every event.
CREATE INDEX usage_events_occurred_at_idx ON staging.usage_events (occurred_at);

-- Every event name ever seen gets a fixed bit, so the set of features an
-- account used on a day is one bigint (feature_bits) and "distinct features in
-- the last 30 days" is an OR over 30 rows instead of a distinct count over events.
CREATE TABLE intermediate.event_names (
    event_name    text PRIMARY KEY,
    bit           smallint NOT NULL UNIQUE CHECK (bit BETWEEN 0 AND 62),
    first_seen_on date NOT NULL
);
COMMENT ON TABLE intermediate.event_names IS 'Dictionary of event names: each gets a bit of account_day_activity.feature_bits, once and for good (bits are never reassigned).';
COMMENT ON COLUMN intermediate.event_names.bit IS '0-62: the position of this event name in feature_bits (at most 63 distinct event names).';
COMMENT ON COLUMN intermediate.event_names.first_seen_on IS 'First UTC day with this event, as of the build that registered it.';

CREATE TABLE intermediate.account_day_activity (
    day             date    NOT NULL,
    account_id      text    NOT NULL,
    events          integer NOT NULL,
    logins          integer NOT NULL,
    session_ms      bigint  NOT NULL,
    core_actions    integer NOT NULL,
    active_users    integer NOT NULL,
    feature_bits    bigint  NOT NULL
);
-- One row per account and day (by construction: written a day at a time by one
-- GROUP BY). Read and deleted by day ranges: BRIN, summarised by the build.
CREATE INDEX account_day_activity_day_brin ON intermediate.account_day_activity USING brin (day) WITH (pages_per_range = 16);
COMMENT ON TABLE intermediate.account_day_activity IS 'Usage of one account on one UTC day (one row per account and day with events). Rebuilt a day at a time from staging.usage_events; login and core-action counts follow include/config/kpis.yml as it was at build time.';
COMMENT ON COLUMN intermediate.account_day_activity.day IS 'UTC date of occurred_at.';
COMMENT ON COLUMN intermediate.account_day_activity.events IS 'All events that day.';
COMMENT ON COLUMN intermediate.account_day_activity.logins IS 'Events named like kpis.yml login_event (one per session).';
COMMENT ON COLUMN intermediate.account_day_activity.session_ms IS 'Sum of duration_seconds of the login events (session length), in whole milliseconds; missing durations count 0.';
COMMENT ON COLUMN intermediate.account_day_activity.core_actions IS 'Events named in kpis.yml core_actions.';
COMMENT ON COLUMN intermediate.account_day_activity.active_users IS 'Distinct users with an event that day (events without a user_id count in events, not here).';
COMMENT ON COLUMN intermediate.account_day_activity.feature_bits IS 'Which event names occurred that day: bit intermediate.event_names.bit is set for each.';

CREATE TABLE intermediate.user_day_activity (
    day        date    NOT NULL,
    account_id text    NOT NULL,
    user_id    text    NOT NULL,
    events     integer NOT NULL
);
-- No primary keys on the rollups, on purpose: rows are written and deleted a
-- whole day at a time by one GROUP BY (unique by construction), and maintaining a
-- btree costs more than computing them. Reads are by day: BRIN is enough (the
-- build summarises new ranges right after writing).
CREATE INDEX user_day_activity_day_brin ON intermediate.user_day_activity USING brin (day) WITH (pages_per_range = 16);
COMMENT ON TABLE intermediate.user_day_activity IS 'One row per user active on a UTC day, per account: the input of the distinct-active-user windows.';
COMMENT ON COLUMN intermediate.user_day_activity.events IS 'Events of that user that day.';

CREATE VIEW intermediate.account_feature_day AS
SELECT a.account_id, n.event_name, a.day
FROM intermediate.account_day_activity AS a
JOIN intermediate.event_names AS n ON a.feature_bits & (1::bigint << n.bit) <> 0;
COMMENT ON VIEW intermediate.account_feature_day IS 'Which event names (features) an account used on a day, unpacked from feature_bits.';

CREATE TABLE marts.account_daily_kpis (
    account_id                       text NOT NULL,
    day                              date NOT NULL,
    parent_account_id                text,
    csm_owner_id                     text,
    employees                        integer,
    industry                         text,
    region                           text,
    lifecycle_stage                  text,
    tenure_days                      integer,
    logins_7d                        integer,
    logins_30d                       integer,
    active_days_7d                   integer,
    active_days_30d                  integer,
    active_users_7d                  integer,
    active_users_30d                 integer,
    licensed_seats                   integer,
    issued_seats                     integer,
    seat_utilisation                 double precision,
    logins_per_seat_30d              double precision,
    features_used_30d                integer,
    core_actions_30d                 integer,
    core_actions_per_active_user_30d double precision,
    session_minutes_30d              double precision,
    avg_session_minutes_30d          double precision,
    logins_change_30d_pct            double precision,
    active_users_change_30d_pct      double precision,
    days_since_last_login            integer,
    milestones_reached               integer,
    arr                              numeric,
    days_to_renewal                  integer,
    contract_status                  text,
    expansions_12m                   integer,
    nps_latest                       numeric,
    nps_latest_at                    timestamptz,
    csat_avg_90d                     double precision,
    csm_sentiment_latest             integer,
    csm_sentiment_at                 timestamptz,
    core_actions_per_employee_30d    double precision,
    PRIMARY KEY (account_id, day)
);
CREATE INDEX account_daily_kpis_day_idx ON marts.account_daily_kpis (day);
COMMENT ON TABLE marts.account_daily_kpis IS 'One row per CRM account per UTC day from its creation: the KPIs scorecards read, each as of the end of that day (nothing that happened later is used; see the column notes for the CRM attributes, which have no history). Windows "7d" / "30d" end on and include the day.';
COMMENT ON COLUMN marts.account_daily_kpis.account_id IS 'CRM account id.';
COMMENT ON COLUMN marts.account_daily_kpis.day IS 'The day the row describes (UTC), as of its end.';
COMMENT ON COLUMN marts.account_daily_kpis.parent_account_id IS 'CRM parent account (current CRM value: the CRM keeps no history).';
COMMENT ON COLUMN marts.account_daily_kpis.csm_owner_id IS 'CSM owning the account (current CRM value).';
COMMENT ON COLUMN marts.account_daily_kpis.employees IS 'Company size from the CRM (current value), for segments and per-employee rates.';
COMMENT ON COLUMN marts.account_daily_kpis.industry IS 'Industry (current CRM value).';
COMMENT ON COLUMN marts.account_daily_kpis.region IS 'Region (current CRM value).';
COMMENT ON COLUMN marts.account_daily_kpis.lifecycle_stage IS 'CRM lifecycle stage (current CRM value, not the stage on that day).';
COMMENT ON COLUMN marts.account_daily_kpis.tenure_days IS 'Days since the account was created in the CRM (0 on its first day).';
COMMENT ON COLUMN marts.account_daily_kpis.logins_7d IS 'Login events in the 7 days ending on the day.';
COMMENT ON COLUMN marts.account_daily_kpis.logins_30d IS 'Login events in the 30 days ending on the day.';
COMMENT ON COLUMN marts.account_daily_kpis.active_days_7d IS 'Days with at least one event, of the last 7.';
COMMENT ON COLUMN marts.account_daily_kpis.active_days_30d IS 'Days with at least one event, of the last 30.';
COMMENT ON COLUMN marts.account_daily_kpis.active_users_7d IS 'Distinct users with at least one event in the last 7 days.';
COMMENT ON COLUMN marts.account_daily_kpis.active_users_30d IS 'Distinct users with at least one event in the last 30 days.';
COMMENT ON COLUMN marts.account_daily_kpis.licensed_seats IS 'Seats the licence allows (current licence: the product keeps no history); NULL without a licence.';
COMMENT ON COLUMN marts.account_daily_kpis.issued_seats IS 'Users created on or before the day and not deactivated by its end.';
COMMENT ON COLUMN marts.account_daily_kpis.seat_utilisation IS 'active_users_30d / licensed_seats (can exceed 1); NULL without a licence.';
COMMENT ON COLUMN marts.account_daily_kpis.logins_per_seat_30d IS 'logins_30d / licensed_seats; NULL without a licence.';
COMMENT ON COLUMN marts.account_daily_kpis.features_used_30d IS 'Distinct event names other than the login event in the last 30 days (feature breadth).';
COMMENT ON COLUMN marts.account_daily_kpis.core_actions_30d IS 'Core-action events (kpis.yml core_actions) in the last 30 days.';
COMMENT ON COLUMN marts.account_daily_kpis.core_actions_per_active_user_30d IS 'core_actions_30d / active_users_30d; NULL without active users.';
COMMENT ON COLUMN marts.account_daily_kpis.session_minutes_30d IS 'Session time in the last 30 days, in minutes (durations of the login events).';
COMMENT ON COLUMN marts.account_daily_kpis.avg_session_minutes_30d IS 'session_minutes_30d / logins_30d: minutes per session; NULL without logins.';
COMMENT ON COLUMN marts.account_daily_kpis.logins_change_30d_pct IS 'logins_30d against the 30 days before them, as a fraction: -0.3 = 30 % fewer; NULL when that earlier period had no logins.';
COMMENT ON COLUMN marts.account_daily_kpis.active_users_change_30d_pct IS 'active_users_30d against the distinct active users of the 30 days before, as a fraction; NULL when there were none.';
COMMENT ON COLUMN marts.account_daily_kpis.days_since_last_login IS 'Days since the last login on or before the day (0 = logged in that day); NULL if never.';
COMMENT ON COLUMN marts.account_daily_kpis.milestones_reached IS 'Distinct success-milestone events (kpis.yml milestones) ever reached by the end of the day: an outcome signal, not usage.';
COMMENT ON COLUMN marts.account_daily_kpis.arr IS 'Sum of the ARR of the contracts covering the day (start_date <= day < end_date, end_date being the renewal date); 0 once every contract has ended; NULL before the first contract started.';
COMMENT ON COLUMN marts.account_daily_kpis.days_to_renewal IS 'Days from the day to the nearest end_date >= day among contracts started by then (0 on the renewal day); NULL if none.';
COMMENT ON COLUMN marts.account_daily_kpis.contract_status IS 'Status of the covering contract (latest start wins), as knowable that day: an outcome the CRM records later (renewed, churned, expanded) shows from the term end, from the day the CRM row with it was loaded, or for expanded from the first expansion closed in the term, whichever is first; before that the term shows active. After the last term ended: that term''s status. NULL before any contract.';
COMMENT ON COLUMN marts.account_daily_kpis.expansions_12m IS 'Upsell and cross-sell deals closed in the 365 days ending on the day.';
COMMENT ON COLUMN marts.account_daily_kpis.nps_latest IS 'The latest NPS answer (0-10) submitted on or before the day; NULL if none.';
COMMENT ON COLUMN marts.account_daily_kpis.nps_latest_at IS 'When that NPS answer was submitted.';
COMMENT ON COLUMN marts.account_daily_kpis.csat_avg_90d IS 'Mean CSAT answer (1-5) submitted in the 90 days ending on the day; NULL if none.';
COMMENT ON COLUMN marts.account_daily_kpis.csm_sentiment_latest IS 'The CSM''s latest sentiment entry on or before the day (1 red, 2 yellow, 3 green): human judgement, kept apart from computed signals.';
COMMENT ON COLUMN marts.account_daily_kpis.csm_sentiment_at IS 'When that sentiment entry was recorded.';
COMMENT ON COLUMN marts.account_daily_kpis.core_actions_per_employee_30d IS 'core_actions_30d / employees (normalised for company size); NULL without an employee count.';
