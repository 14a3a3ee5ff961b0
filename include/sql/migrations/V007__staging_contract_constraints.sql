-- The row contract of the immutable streams, stated as constraints.
--
-- include/sql/staging/<stream>.sql checks every value of a batch and
-- quarantines the rows that break the contract; the loader never writes such a
-- row to staging. The loader's bulk path (plugins/customer_health/warehouse/
-- loader.py) instead COPYs a large batch of database-typed values straight into
-- staging: there the same contract must hold by itself, so any break raises
-- during the COPY and the batch goes through the value-by-value path instead.

-- Event ids are identifiers, not words: byte order compares and sorts them
-- several times faster than a linguistic collation (the key index is rebuilt).
ALTER TABLE staging.usage_events ALTER COLUMN event_id TYPE text COLLATE "C";

-- account_id stays nullable: a missing or unknown account is not a reason to
-- give up the bulk path; it quarantines those rows itself, as the careful one does.
ALTER TABLE staging.usage_events
    ALTER COLUMN event_name SET NOT NULL,
    ALTER COLUMN occurred_at SET NOT NULL,
    ADD CONSTRAINT usage_events_occurred_at_finite CHECK (isfinite(occurred_at)),
    -- NaN sorts above 'Infinity', so this also keeps NaN out.
    ADD CONSTRAINT usage_events_duration_valid CHECK (duration_seconds >= 0 AND duration_seconds < 'Infinity');

ALTER TABLE staging.survey_responses
    ALTER COLUMN survey SET NOT NULL,
    ALTER COLUMN answer SET NOT NULL,
    ALTER COLUMN submitted_at SET NOT NULL,
    ADD CONSTRAINT survey_responses_survey_known CHECK (survey IN ('nps', 'csat', 'cmi')),
    ADD CONSTRAINT survey_responses_answer_in_range CHECK (
        CASE survey WHEN 'nps' THEN answer BETWEEN 0 AND 10 ELSE answer BETWEEN 1 AND 5 END),
    ADD CONSTRAINT survey_responses_submitted_at_finite CHECK (isfinite(submitted_at));

-- Extractors now report the batch's largest cursor instead of writing one per
-- row, and the loader numbers lines as it lands them: raw keeps what was received.
ALTER TABLE raw.usage_events DROP COLUMN _cursor;
ALTER TABLE raw.users DROP COLUMN _cursor;
ALTER TABLE raw.licences DROP COLUMN _cursor;
ALTER TABLE raw.crm_accounts DROP COLUMN _cursor;
ALTER TABLE raw.crm_owners DROP COLUMN _cursor;
ALTER TABLE raw.crm_contracts DROP COLUMN _cursor;
ALTER TABLE raw.crm_expansions DROP COLUMN _cursor;
ALTER TABLE raw.crm_sentiment DROP COLUMN _cursor;
ALTER TABLE raw.survey_responses DROP COLUMN _cursor;

ALTER TABLE meta.load_batches ADD COLUMN load_path text CHECK (load_path IN ('careful', 'bulk'));
COMMENT ON COLUMN meta.load_batches.load_path IS 'careful: checked value by value; bulk: a backfill COPYed straight into staging, indexes rebuilt after (see warehouse/loader.py).';
