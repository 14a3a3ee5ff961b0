-- KPIs declared in kpis.yml (issue 14): the per-event rollup custom KPIs are
-- computed from, the carried-forward state of their days_since kinds, and what
-- each custom column of marts.account_daily_kpis holds.

CREATE TABLE intermediate.account_day_events (
    day              date    NOT NULL,
    account_id       text    NOT NULL,
    event_name       text    NOT NULL,
    events           integer NOT NULL,
    duration_seconds numeric NOT NULL,
    PRIMARY KEY (day, account_id, event_name)
);
COMMENT ON TABLE intermediate.account_day_events IS 'Events of one account on one UTC day, per event name: the input of the custom KPIs of kpis.yml. Rewritten a day at a time (delete + insert) in the same transaction as the standard rollups.';
COMMENT ON COLUMN intermediate.account_day_events.events IS 'Events of that name that day.';
COMMENT ON COLUMN intermediate.account_day_events.duration_seconds IS 'Sum of their duration_seconds (missing durations count 0).';

CREATE TABLE intermediate.account_event_state (
    account_id text NOT NULL,
    event_name text NOT NULL,
    first_day  date NOT NULL,
    last_day   date NOT NULL,
    PRIMARY KEY (account_id, event_name)
);
COMMENT ON TABLE intermediate.account_event_state IS 'First and last UTC day each account had each event name, folded forward day by day: days_since KPIs of a new day read this instead of history.';

CREATE TABLE intermediate.account_event_state_through (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    through  date    NOT NULL
);
COMMENT ON TABLE intermediate.account_event_state_through IS 'The last day folded into account_event_state: a day before it is built from the rollups instead (the state holds later days).';

CREATE TABLE meta.kpi_definitions (
    name            text PRIMARY KEY,
    definition_hash text        NOT NULL,
    kind            text        NOT NULL,
    label           text        NOT NULL,
    description     text        NOT NULL,
    definition      jsonb       NOT NULL,
    built_from      date,
    built_through   date,
    defined_at      timestamptz NOT NULL DEFAULT now(),
    retired_at      timestamptz
);
COMMENT ON TABLE meta.kpi_definitions IS 'What each custom KPI column of marts.account_daily_kpis holds (kpis.yml kinds): a changed definition_hash backfills that column alone; a KPI removed from kpis.yml has its column dropped and its row kept with retired_at.';
COMMENT ON COLUMN meta.kpi_definitions.built_from IS 'First day of the mart whose value follows this definition.';
COMMENT ON COLUMN meta.kpi_definitions.built_through IS 'Last day of the mart whose value follows this definition.';
