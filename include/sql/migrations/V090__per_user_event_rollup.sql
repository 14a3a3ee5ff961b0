-- kpis.yml `distinct: {of: users}` over filtered events (issue 14): who did
-- which event on a day. user_day_activity keeps who was active, not with which
-- event, and account_day_events which events, not by whom, so counting users
-- of some events over a window needs this per-day rollup (read once from the
-- day's events, like account_day_events), or the raw events again every day.
-- Kept only while some KPI counts users (custom_kpis.py), empty otherwise.

CREATE TABLE intermediate.account_day_user_events (
    day        date    NOT NULL,
    account_id text    NOT NULL,
    user_id    text    NOT NULL,
    event_name text    NOT NULL,
    events     integer NOT NULL,
    PRIMARY KEY (day, account_id, user_id, event_name)
);
COMMENT ON TABLE intermediate.account_day_user_events IS 'Events of one user of one account on one UTC day, per event name (events without a user are left out): the input of kpis.yml distinct users KPIs. Rewritten a day at a time with the other rollups; empty while no KPI counts users.';
