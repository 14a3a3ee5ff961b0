-- Scorecards as data, and the health scores they produce, kept per day and config version.
-- A scorecard file is written here once per content hash (config_version), so
-- every score can be traced to the exact logic that made it, and old versions
-- can be replayed on the same history.

CREATE TABLE meta.scorecard_versions (
    config_version text PRIMARY KEY,
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    source_yaml    text NOT NULL,
    rollup_method  text NOT NULL
);
COMMENT ON TABLE meta.scorecard_versions IS 'Each distinct scorecards.yml that ever scored, by content hash.';

CREATE TABLE meta.scorecards (
    config_version text NOT NULL REFERENCES meta.scorecard_versions,
    scorecard      text NOT NULL,
    position       int  NOT NULL,
    red_below      numeric NOT NULL,
    green_from     numeric NOT NULL,
    min_coverage   numeric NOT NULL,
    PRIMARY KEY (config_version, scorecard)
);
COMMENT ON COLUMN meta.scorecards.position IS 'Order in the file: the first scorecard whose segment matches an account is its scorecard.';

CREATE TABLE meta.scorecard_conditions (
    config_version text NOT NULL,
    scorecard      text NOT NULL,
    field          text NOT NULL,
    op             text NOT NULL CHECK (op IN ('eq', 'ne', 'in', 'not_in', 'lt', 'lte', 'gt', 'gte')),
    text_values    text[] NOT NULL,
    FOREIGN KEY (config_version, scorecard) REFERENCES meta.scorecards
);
COMMENT ON COLUMN meta.scorecard_conditions.text_values IS 'Compared as numbers when the field is numeric, else as text.';

CREATE TABLE meta.scorecard_measures (
    config_version text NOT NULL,
    scorecard      text NOT NULL,
    group_name     text NOT NULL,
    group_weight   numeric NOT NULL,
    measure        text NOT NULL,
    kpi            text NOT NULL,
    stream         text,
    direction      text NOT NULL CHECK (direction IN ('higher_is_better', 'lower_is_better')),
    method         text NOT NULL CHECK (method IN ('thresholds', 'percentile', 'boolean')),
    red            numeric,
    green          numeric,
    weight         numeric NOT NULL,
    missing_score  numeric,
    PRIMARY KEY (config_version, scorecard, measure),
    FOREIGN KEY (config_version, scorecard) REFERENCES meta.scorecards
);
COMMENT ON COLUMN meta.scorecard_measures.missing_score IS 'Score used when the KPI has no value; NULL = skip the measure and spread its weight.';
COMMENT ON COLUMN meta.scorecard_measures.stream IS 'Staging stream the KPI comes from, for the data-quality gate.';

CREATE TABLE meta.source_quality (
    day            date NOT NULL,
    stream         text NOT NULL,
    stale          boolean NOT NULL,
    reason         text,
    last_data_at   timestamptz,
    rows_on_day    bigint,
    rows_trailing_avg numeric,
    checked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, stream)
);
COMMENT ON TABLE meta.source_quality IS 'Data-quality gate before scoring: a stale stream''s measures carry their last good value instead of dragging scores down.';

CREATE TABLE marts.health_scores (
    account_id     text NOT NULL,
    day            date NOT NULL,
    config_version text NOT NULL REFERENCES meta.scorecard_versions,
    scorecard      text NOT NULL,
    score          numeric(5, 2),
    band           text NOT NULL CHECK (band IN ('red', 'yellow', 'green', 'insufficient_data')),
    coverage       numeric(4, 3) NOT NULL,
    stale_measures int NOT NULL DEFAULT 0,
    change_1d      numeric(6, 2),
    change_7d      numeric(6, 2),
    change_30d     numeric(6, 2),
    computed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, day, config_version)
);
CREATE INDEX ON marts.health_scores (day, config_version);
COMMENT ON TABLE marts.health_scores IS 'One health score per account per day per scorecard config version; past rows are never rewritten by a new version.';
COMMENT ON COLUMN marts.health_scores.score IS '0-100; NULL when coverage is below the scorecard minimum (band insufficient_data).';
COMMENT ON COLUMN marts.health_scores.coverage IS 'Share of the scorecard''s nominal weight whose KPI had data (stale-carried values count).';
COMMENT ON COLUMN marts.health_scores.change_7d IS 'Score minus the score 7 days earlier under the same config version; attributed per measure in health_score_changes.';

CREATE TABLE marts.health_score_components (
    account_id     text NOT NULL,
    day            date NOT NULL,
    config_version text NOT NULL,
    scorecard      text NOT NULL,
    group_name     text NOT NULL,
    measure        text NOT NULL,
    kpi            text NOT NULL,
    raw_value      numeric,
    value          numeric(5, 2),
    weight         numeric(6, 5) NOT NULL,
    contribution   numeric(7, 4) NOT NULL,
    state          text NOT NULL CHECK (state IN ('ok', 'missing_skipped', 'missing_scored', 'stale_carried')),
    PRIMARY KEY (account_id, day, config_version, measure)
);
COMMENT ON TABLE marts.health_score_components IS 'Why a score is what it is: per measure, the KPI value, its 0-100 value, effective weight and contribution (contributions add up to the score).';
COMMENT ON COLUMN marts.health_score_components.weight IS 'Effective weight after spreading the weight of skipped measures: group share x measure share.';

CREATE TABLE marts.health_score_changes (
    account_id     text NOT NULL,
    day            date NOT NULL,
    config_version text NOT NULL,
    horizon_days   int  NOT NULL CHECK (horizon_days IN (1, 7, 30)),
    measure        text NOT NULL,
    contribution_change numeric(7, 4) NOT NULL,
    raw_before     numeric,
    raw_after      numeric,
    PRIMARY KEY (account_id, day, config_version, horizon_days, measure)
);
COMMENT ON TABLE marts.health_score_changes IS 'Which measures moved the score, by how many points, against 1, 7 and 30 days earlier; per account they add up to the change.';

CREATE TABLE marts.parent_health_scores (
    parent_account_id text NOT NULL,
    day            date NOT NULL,
    config_version text NOT NULL,
    method         text NOT NULL,
    score          numeric(5, 2),
    band           text NOT NULL,
    children       int NOT NULL,
    children_scored int NOT NULL,
    PRIMARY KEY (parent_account_id, day, config_version)
);
COMMENT ON TABLE marts.parent_health_scores IS 'Roll-up of child accounts'' scores to their parent (ARR-weighted by default).';

ALTER TABLE meta.scorecard_versions
    ADD COLUMN red_below numeric NOT NULL DEFAULT 40,
    ADD COLUMN green_from numeric NOT NULL DEFAULT 70;
COMMENT ON COLUMN meta.scorecard_versions.red_below IS 'File-level bands, used for parent roll-ups.';

-- Does a segment condition hold for an account's value? Numbers compare as
-- numbers (the config validator guarantees numeric operands for numeric KPIs).
CREATE FUNCTION util.condition_holds(op text, vals text[], text_value text, num_value numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN text_value IS NULL THEN false
        WHEN op IN ('lt', 'lte', 'gt', 'gte') AND num_value IS NULL THEN false
        WHEN op = 'lt'  THEN num_value <  vals[1]::numeric
        WHEN op = 'lte' THEN num_value <= vals[1]::numeric
        WHEN op = 'gt'  THEN num_value >  vals[1]::numeric
        WHEN op = 'gte' THEN num_value >= vals[1]::numeric
        WHEN op IN ('eq', 'in')     THEN CASE WHEN num_value IS NOT NULL THEN num_value = ANY (vals::numeric[]) ELSE text_value = ANY (vals) END
        WHEN op IN ('ne', 'not_in') THEN CASE WHEN num_value IS NOT NULL THEN num_value <> ALL (vals::numeric[]) ELSE text_value <> ALL (vals) END
    END
$$;
