-- churn_events: a canonical stream any kind can feed (a CSV of account_id,
-- churned_at, reason; a CRM object), for teams that record churn directly
-- rather than only through contract ends. marts.account_outcomes takes a
-- churn from here when it is earlier than (or absent from) the contracts.

CREATE TABLE raw.churn_events (
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _line      bigint      NOT NULL,
    account_id text,
    churned_at text,
    reason text,
    _loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON raw.churn_events USING brin (_batch_id);
COMMENT ON TABLE raw.churn_events IS 'Rows of stream churn_events as received, all text; one batch per load.';

CREATE TABLE staging.churn_events (
    account_id text,
    churned_at date,
    reason     text,
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, churned_at)
);
COMMENT ON TABLE staging.churn_events IS 'Churns as a team records them, one row per account and churn date.';
COMMENT ON COLUMN staging.churn_events.account_id IS 'CRM account id.';
COMMENT ON COLUMN staging.churn_events.churned_at IS 'The day the account stopped being a customer (its last day of service).';
COMMENT ON COLUMN staging.churn_events.reason IS 'Why, in the team''s words (free text; may be empty).';
COMMENT ON COLUMN staging.churn_events._batch_id IS 'meta.load_batches row that last wrote this row.';
