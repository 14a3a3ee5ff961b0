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
-- quarantine instead of aborting the batch. A value must first have the shape
-- the contract says (ISO 8601 dates start YYYY-MM-DD: this rejects words such as
-- 'yesterday' and day-first dates; numbers hold digits, sign, point, exponent),
-- checked with cheap string tests, then Postgres must accept it. The second part runs in
-- one of two modes (customer_health.fast_casts): the loader first tries plain
-- casts for the whole batch, which raise on the first bad value; only then it
-- rolls back to a savepoint and repeats with the per-value exception handler,
-- which is exact but costs a subtransaction per row. Both modes accept the
-- same values; a clean batch of millions never pays for the slow one.
CREATE FUNCTION util.looks_like_iso_date(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT substr(v, 5, 1) = '-' AND substr(v, 8, 1) = '-' AND substr(v, 11, 1) IN ('', 'T', ' ')
$$;

CREATE FUNCTION util.looks_like_number(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v <> '' AND translate(v, '0123456789.+-eE ', '') = ''
$$;

CREATE FUNCTION util.fast_casts() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(current_setting('customer_health.fast_casts', true), '') = 'on'
$$;

CREATE FUNCTION util.exact_timestamptz(v text) RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN v::timestamptz;
EXCEPTION WHEN data_exception THEN
    RETURN NULL;
END $$;

CREATE FUNCTION util.exact_date(v text) RETURNS date
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN v::date;
EXCEPTION WHEN data_exception THEN
    RETURN NULL;
END $$;

CREATE FUNCTION util.exact_numeric(v text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN v::numeric;
EXCEPTION WHEN data_exception THEN
    RETURN NULL;
END $$;

CREATE FUNCTION util.exact_int(v text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN v::integer;
EXCEPTION WHEN data_exception THEN
    RETURN NULL;
END $$;

CREATE FUNCTION util.try_timestamptz(v text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN util.looks_like_iso_date(v)
                THEN CASE WHEN util.fast_casts() THEN v::timestamptz ELSE util.exact_timestamptz(v) END END
$$;

CREATE FUNCTION util.try_date(v text) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN util.looks_like_iso_date(v) AND length(v) = 10
                THEN CASE WHEN util.fast_casts() THEN v::date ELSE util.exact_date(v) END END
$$;

CREATE FUNCTION util.try_numeric(v text) RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN util.looks_like_number(v)
                THEN CASE WHEN util.fast_casts() THEN v::numeric ELSE util.exact_numeric(v) END END
$$;

CREATE FUNCTION util.try_int(v text) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN util.looks_like_number(v)
                THEN CASE WHEN util.fast_casts() THEN v::integer ELSE util.exact_int(v) END END
$$;

-- Why a value did not cast, for quarantine reasons: NULL when it is fine or absent.
-- STABLE, like format() inside: an IMMUTABLE wrapper around a STABLE call is not inlined.
CREATE FUNCTION util.bad_value(column_name text, raw text, typed anyelement) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN raw IS NOT NULL AND typed IS NULL
           THEN 'unparseable ' || column_name || ': ' || quote_literal(raw) END
$$;

CREATE FUNCTION util.missing(column_name text, raw text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN raw IS NULL THEN 'missing ' || column_name END
$$;
