-- The daily KPI build must not re-read history (issue 14): what it needs from
-- before its 60-day windows is carried forward per account, and the days that
-- have rollups are recorded, so neither grows with the rollups.

-- Per account and day with activity: the last login and every event name used,
-- up to and including that day. Monotone, so the state as of any day is the
-- latest row on or before it: one index probe per account. Written by the same
-- statement file as the rollups (intermediate/activity_rollups.sql): a day's
-- rows and every later day's are rewritten when a day's rollups are.
CREATE TABLE intermediate.account_day_state (
    account_id          text   NOT NULL,
    day                 date   NOT NULL,
    last_login_day      date,
    feature_bits_so_far bigint NOT NULL,
    PRIMARY KEY (account_id, day)
);
CREATE INDEX account_day_state_day_brin ON intermediate.account_day_state USING brin (day) WITH (pages_per_range = 16);
COMMENT ON TABLE intermediate.account_day_state IS 'Carried-forward usage state per account, one row per account_day_activity row: what the KPIs need from before their windows (last login, milestones).';
COMMENT ON COLUMN intermediate.account_day_state.last_login_day IS 'Latest day up to this one with logins > 0 in account_day_activity; NULL: none yet.';
COMMENT ON COLUMN intermediate.account_day_state.feature_bits_so_far IS 'OR of account_day_activity.feature_bits over every day up to this one (milestones reached = this AND the milestone bits).';

-- The days the rollups hold rows for (days with events when built), so that
-- finding days with events but no rollup is not a DISTINCT over all rollups.
CREATE TABLE intermediate.rolled_up_days (
    day date PRIMARY KEY
);
COMMENT ON TABLE intermediate.rolled_up_days IS 'UTC days that have rows in account_day_activity, kept by the KPI build next to the rollups.';

INSERT INTO intermediate.rolled_up_days (day)
SELECT DISTINCT day FROM intermediate.account_day_activity;

INSERT INTO intermediate.account_day_state (account_id, day, last_login_day, feature_bits_so_far)
SELECT account_id, day,
       max(CASE WHEN logins > 0 THEN day END) OVER so_far,
       bit_or(feature_bits) OVER so_far
FROM intermediate.account_day_activity
WINDOW so_far AS (PARTITION BY account_id ORDER BY day ROWS UNBOUNDED PRECEDING)
ORDER BY day;

ANALYZE intermediate.account_day_state, intermediate.rolled_up_days;
