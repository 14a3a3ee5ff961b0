-- No silent loss on the way in (issue 15): where a row came from, rows the
-- extractor could not hand over as they were, fields a source sends that the
-- stream does not map, files identified by content, and a quarantine a person
-- can work through (kinds, closing, release, acknowledge).

-- raw.<stream>: the origin of each record in its source (file and line, API
-- object and id), the fields the stream does not map (JSON text: kept, not
-- lost), and why the extractor could not pass the record on as it was (a NUL
-- byte, an oversized value, a ragged CSV row, bytes not in the file's encoding).
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['usage_events', 'users', 'licences', 'crm_accounts', 'crm_owners', 'crm_contracts',
                             'crm_expansions', 'crm_sentiment', 'churn_events', 'survey_responses'] LOOP
        EXECUTE format('ALTER TABLE raw.%I ADD COLUMN _origin text, ADD COLUMN _extra text, ADD COLUMN _reject text', t);
    END LOOP;
END $$;

ALTER TABLE meta.quarantine
    ADD COLUMN origin text,
    ADD COLUMN reason_kind text,
    ADD COLUMN releasable boolean NOT NULL DEFAULT true,
    ADD COLUMN release_requested_at timestamptz,
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN closed_in_batch bigint REFERENCES meta.load_batches,
    ADD COLUMN closed_how text CHECK (closed_how IN ('fixed by a later load', 'acknowledged')),
    ADD COLUMN closed_note text;
COMMENT ON COLUMN meta.quarantine.origin IS 'Where the record is in its source: file:line of an export, object and id of an API record; NULL for a database row (see line).';
COMMENT ON COLUMN meta.quarantine.reason_kind IS 'What went wrong without the key or value (reason up to the first ": " or ", got "): what the quarantine command groups by.';
COMMENT ON COLUMN meta.quarantine.releasable IS 'False when the payload had to be altered to be stored (NUL bytes escaped, an oversized value cut, a ragged row): releasing it would load the altered values.';
COMMENT ON COLUMN meta.quarantine.release_requested_at IS 'Set by `quarantine release`: the row goes through every check again in the next load of its stream.';
COMMENT ON COLUMN meta.quarantine.closed_how IS 'fixed by a later load (the key arrived clean in closed_in_batch) or acknowledged by a person (closed_note says why).';
CREATE INDEX ON meta.quarantine (stream, record_key) WHERE closed_at IS NULL AND released_in_batch IS NULL;

-- The kind of each reason of a row, joined as its reason is.
CREATE FUNCTION util.reason_kind(reason text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT string_agg(split_part(split_part(r, ': ', 1), ', got ', 1), '; ' ORDER BY n)
    FROM unnest(string_to_array(reason, '; ')) WITH ORDINALITY AS u(r, n)
$$;
UPDATE meta.quarantine SET reason_kind = util.reason_kind(reason);
ALTER TABLE meta.quarantine ALTER COLUMN reason_kind SET NOT NULL;

-- A date taken from the front of a date or a timestamp ('2026-01-15T09:00:00Z'
-- is the 15th), but only when the whole value is one: '2026-01-15junk' is not.
CREATE FUNCTION util.try_date_prefix(v text) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN util.try_timestamptz(v) IS NOT NULL THEN util.try_date(left(v, 10)) END
$$;

-- Export files a stream has loaded, by name and content: a re-export with new
-- content is read again, a file whose name sorts before the newest one is not
-- skipped, and a file already loaded is not read twice.
CREATE TABLE meta.source_files (
    source    text   NOT NULL,
    stream    text   NOT NULL,
    name      text   NOT NULL,
    size      bigint NOT NULL,
    sha256    text   NOT NULL,
    batch_id  bigint NOT NULL REFERENCES meta.load_batches,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, stream, name, sha256)
);
COMMENT ON TABLE meta.source_files IS 'Each export file (name, size, SHA-256) a stream loaded, written in the transaction of its batch.';
