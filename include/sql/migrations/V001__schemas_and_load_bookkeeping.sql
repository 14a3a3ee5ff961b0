-- Layers of the warehouse and the bookkeeping every load writes.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS intermediate;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS util;

CREATE TABLE meta.load_batches (
    batch_id         bigserial PRIMARY KEY,
    source           text        NOT NULL,
    stream           text        NOT NULL,
    run_id           text,
    started_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at      timestamptz,
    cursor_from      text,
    cursor_to        text,
    rows_received    bigint NOT NULL DEFAULT 0,
    rows_inserted    bigint NOT NULL DEFAULT 0,
    rows_updated     bigint NOT NULL DEFAULT 0,
    rows_unchanged   bigint NOT NULL DEFAULT 0,
    rows_quarantined bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE meta.load_batches IS 'One row per committed load of one stream of one source; a load that failed rolled back and left no row.';
COMMENT ON COLUMN meta.load_batches.rows_unchanged IS 'Rows already in staging with identical content (re-extracted overlap or a rerun).';

CREATE TABLE meta.source_state (
    source     text NOT NULL,
    stream     text NOT NULL,
    cursor     text,
    batch_id   bigint REFERENCES meta.load_batches,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, stream)
);
COMMENT ON TABLE meta.source_state IS 'Incremental cursor per source and stream, advanced in the same transaction as the load it belongs to.';

CREATE TABLE meta.quarantine (
    quarantine_id bigserial PRIMARY KEY,
    source        text   NOT NULL,
    stream        text   NOT NULL,
    batch_id      bigint NOT NULL REFERENCES meta.load_batches,
    line          bigint NOT NULL,
    record_key    text,
    reason        text   NOT NULL,
    payload       jsonb  NOT NULL,
    awaiting_account text,
    released_in_batch bigint REFERENCES meta.load_batches,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON meta.quarantine (source, stream, batch_id);
CREATE INDEX ON meta.quarantine (source, stream) WHERE awaiting_account IS NOT NULL AND released_in_batch IS NULL;
COMMENT ON TABLE meta.quarantine IS 'Rows that broke the stream contract, kept whole with a reason a person can read; the rest of their batch loaded.';
COMMENT ON COLUMN meta.quarantine.line IS 'Position of the row in the batch as received (1 = first data row).';
COMMENT ON COLUMN meta.quarantine.payload IS 'The row exactly as received, all values as text.';
COMMENT ON COLUMN meta.quarantine.awaiting_account IS 'Set when the only fault was an account the CRM did not know yet: the row is loaded again once the account appears.';
COMMENT ON COLUMN meta.quarantine.released_in_batch IS 'The later batch that took this row back in (it was checked again there).';

-- Casts that return NULL instead of failing, so one bad value sends its row to
-- quarantine instead of aborting the batch. They are plain SQL (inlined by the
-- planner): a strict pattern plus a days-in-month test decide validity without
-- the per-row subtransaction an exception handler would cost on millions of rows.
CREATE FUNCTION util.days_in_month(y int, m int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN m = 2 THEN CASE WHEN (y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0 THEN 29 ELSE 28 END
                WHEN m IN (4, 6, 9, 11) THEN 30 ELSE 31 END
$$;

CREATE FUNCTION util.try_date(v text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v ~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
                 AND substr(v, 9, 2)::int <= util.days_in_month(substr(v, 1, 4)::int, substr(v, 6, 2)::int)
           THEN v::date END
$$;

CREATE FUNCTION util.try_timestamptz(v text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v ~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?)?(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?$'
                 AND substr(v, 9, 2)::int <= util.days_in_month(substr(v, 1, 4)::int, substr(v, 6, 2)::int)
           THEN v::timestamptz END
$$;

CREATE FUNCTION util.try_numeric(v text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v ~ '^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?\s*$' THEN v::numeric END
$$;

CREATE FUNCTION util.try_int(v text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v ~ '^\s*[+-]?[0-9]{1,9}\s*$' THEN v::integer END
$$;

-- Why a value did not cast, for quarantine reasons: NULL when it is fine or absent.
CREATE FUNCTION util.bad_value(column_name text, raw text, typed anyelement) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN raw IS NOT NULL AND typed IS NULL
           THEN format('unparseable %s: %s', column_name, quote_literal(raw)) END
$$;

CREATE FUNCTION util.missing(column_name text, raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN raw IS NULL THEN format('missing %s', column_name) END
$$;
