-- Landing (raw) and typed (staging) tables, one pair per canonical stream.
-- raw.* keeps each value exactly as received (text), with its batch and position;
-- staging.* holds the typed, keyed, deduplicated rows that passed the contract.

CREATE TABLE raw.usage_events (
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _line      bigint      NOT NULL,
    event_id text,
    account_id text,
    user_id text,
    event_name text,
    occurred_at text,
    duration_seconds text,
    _cursor    text,
    _loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON raw.usage_events USING brin (_batch_id);
COMMENT ON TABLE raw.usage_events IS 'Rows of stream usage_events as received, all text; one batch per load.';

CREATE TABLE staging.usage_events (
    event_id text,
    account_id text,
    user_id text,
    event_name text,
    occurred_at timestamptz,
    duration_seconds numeric,
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id)
);
COMMENT ON COLUMN staging.usage_events.event_id IS 'Product event id (unique per event).';
COMMENT ON COLUMN staging.usage_events.account_id IS 'CRM account id.';
COMMENT ON COLUMN staging.usage_events.user_id IS 'Product user id.';
COMMENT ON COLUMN staging.usage_events.event_name IS 'What the user did (login marks a session).';
COMMENT ON COLUMN staging.usage_events.occurred_at IS 'When it happened.';
COMMENT ON COLUMN staging.usage_events.duration_seconds IS 'Session or action time in seconds, if the product records it.';
COMMENT ON COLUMN staging.usage_events._batch_id IS 'meta.load_batches row that last wrote this row.';

CREATE TABLE raw.users (
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _line      bigint      NOT NULL,
    user_id text,
    account_id text,
    created_at text,
    deactivated_at text,
    role text,
    _cursor    text,
    _loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON raw.users USING brin (_batch_id);
COMMENT ON TABLE raw.users IS 'Rows of stream users as received, all text; one batch per load.';

CREATE TABLE staging.users (
    user_id text,
    account_id text,
    created_at timestamptz,
    deactivated_at timestamptz,
    role text,
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id)
);
COMMENT ON COLUMN staging.users.user_id IS 'Product user id.';
COMMENT ON COLUMN staging.users.account_id IS 'CRM account id.';
COMMENT ON COLUMN staging.users.created_at IS 'When the seat was issued.';
COMMENT ON COLUMN staging.users.deactivated_at IS 'When the seat was removed; NULL while active.';
COMMENT ON COLUMN staging.users.role IS 'Role in the product (owner, admin, member, ...).';
COMMENT ON COLUMN staging.users._batch_id IS 'meta.load_batches row that last wrote this row.';

CREATE TABLE raw.licences (
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _line      bigint      NOT NULL,
    account_id text,
    seats text,
    _cursor    text,
    _loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON raw.licences USING brin (_batch_id);
COMMENT ON TABLE raw.licences IS 'Rows of stream licences as received, all text; one batch per load.';

CREATE TABLE staging.licences (
    account_id text,
    seats integer,
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id)
);
COMMENT ON COLUMN staging.licences.account_id IS 'CRM account id.';
COMMENT ON COLUMN staging.licences.seats IS 'Licensed seats.';
COMMENT ON COLUMN staging.licences._batch_id IS 'meta.load_batches row that last wrote this row.';

CREATE TABLE raw.crm_accounts (
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _line      bigint      NOT NULL,
    account_id text,
    name text,
    parent_account_id text,
    csm_owner_id text,
    employees text,
    industry text,
    region text,
    lifecycle_stage text,
    created_at text,
    _cursor    text,
    _loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON raw.crm_accounts USING brin (_batch_id);
COMMENT ON TABLE raw.crm_accounts IS 'Rows of stream crm_accounts as received, all text; one batch per load.';

CREATE TABLE staging.crm_accounts (
    account_id text,
    name text,
    parent_account_id text,
    csm_owner_id text,
    employees integer,
    industry text,
    region text,
    lifecycle_stage text,
    created_at timestamptz,
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id)
);
COMMENT ON COLUMN staging.crm_accounts.account_id IS 'CRM account id.';
COMMENT ON COLUMN staging.crm_accounts.name IS 'Account name.';
COMMENT ON COLUMN staging.crm_accounts.parent_account_id IS 'Parent account for groups; NULL for top level.';
COMMENT ON COLUMN staging.crm_accounts.csm_owner_id IS 'CSM who owns the account (crm_owners.owner_id).';
COMMENT ON COLUMN staging.crm_accounts.employees IS 'Company size, for per-employee normalisation and segments.';
COMMENT ON COLUMN staging.crm_accounts.industry IS 'Industry.';
COMMENT ON COLUMN staging.crm_accounts.region IS 'Region.';
COMMENT ON COLUMN staging.crm_accounts.lifecycle_stage IS 'CRM lifecycle stage (onboarding, customer, ...).';
COMMENT ON COLUMN staging.crm_accounts.created_at IS 'When the account became a customer.';
COMMENT ON COLUMN staging.crm_accounts._batch_id IS 'meta.load_batches row that last wrote this row.';

CREATE TABLE raw.crm_owners (
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _line      bigint      NOT NULL,
    owner_id text,
    email text,
    name text,
    _cursor    text,
    _loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON raw.crm_owners USING brin (_batch_id);
COMMENT ON TABLE raw.crm_owners IS 'Rows of stream crm_owners as received, all text; one batch per load.';

CREATE TABLE staging.crm_owners (
    owner_id text,
    email text,
    name text,
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_id)
);
COMMENT ON COLUMN staging.crm_owners.owner_id IS 'CRM user id of the CSM.';
COMMENT ON COLUMN staging.crm_owners.email IS 'Where their digest goes.';
COMMENT ON COLUMN staging.crm_owners.name IS 'Display name.';
COMMENT ON COLUMN staging.crm_owners._batch_id IS 'meta.load_batches row that last wrote this row.';

CREATE TABLE raw.crm_contracts (
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _line      bigint      NOT NULL,
    contract_id text,
    account_id text,
    start_date text,
    end_date text,
    arr text,
    status text,
    _cursor    text,
    _loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON raw.crm_contracts USING brin (_batch_id);
COMMENT ON TABLE raw.crm_contracts IS 'Rows of stream crm_contracts as received, all text; one batch per load.';

CREATE TABLE staging.crm_contracts (
    contract_id text,
    account_id text,
    start_date date,
    end_date date,
    arr numeric,
    status text,
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_id)
);
COMMENT ON COLUMN staging.crm_contracts.contract_id IS 'CRM contract (deal) id.';
COMMENT ON COLUMN staging.crm_contracts.account_id IS 'CRM account id.';
COMMENT ON COLUMN staging.crm_contracts.start_date IS 'Contract start.';
COMMENT ON COLUMN staging.crm_contracts.end_date IS 'Contract end = renewal date.';
COMMENT ON COLUMN staging.crm_contracts.arr IS 'Annual recurring revenue of the contract.';
COMMENT ON COLUMN staging.crm_contracts.status IS 'active, renewed, churned or expanded.';
COMMENT ON COLUMN staging.crm_contracts._batch_id IS 'meta.load_batches row that last wrote this row.';

CREATE TABLE raw.crm_expansions (
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _line      bigint      NOT NULL,
    expansion_id text,
    account_id text,
    kind text,
    closed_at text,
    arr_delta text,
    _cursor    text,
    _loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON raw.crm_expansions USING brin (_batch_id);
COMMENT ON TABLE raw.crm_expansions IS 'Rows of stream crm_expansions as received, all text; one batch per load.';

CREATE TABLE staging.crm_expansions (
    expansion_id text,
    account_id text,
    kind text,
    closed_at date,
    arr_delta numeric,
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (expansion_id)
);
COMMENT ON COLUMN staging.crm_expansions.expansion_id IS 'CRM deal id of the upsell or cross-sell.';
COMMENT ON COLUMN staging.crm_expansions.account_id IS 'CRM account id.';
COMMENT ON COLUMN staging.crm_expansions.kind IS 'upsell or cross_sell.';
COMMENT ON COLUMN staging.crm_expansions.closed_at IS 'When it was won.';
COMMENT ON COLUMN staging.crm_expansions.arr_delta IS 'ARR it added.';
COMMENT ON COLUMN staging.crm_expansions._batch_id IS 'meta.load_batches row that last wrote this row.';

CREATE TABLE raw.crm_sentiment (
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _line      bigint      NOT NULL,
    entry_id text,
    account_id text,
    csm_owner_id text,
    sentiment text,
    note text,
    recorded_at text,
    _cursor    text,
    _loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON raw.crm_sentiment USING brin (_batch_id);
COMMENT ON TABLE raw.crm_sentiment IS 'Rows of stream crm_sentiment as received, all text; one batch per load.';

CREATE TABLE staging.crm_sentiment (
    entry_id text,
    account_id text,
    csm_owner_id text,
    sentiment integer,
    note text,
    recorded_at timestamptz,
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_id)
);
COMMENT ON COLUMN staging.crm_sentiment.entry_id IS 'CRM id of the sentiment entry.';
COMMENT ON COLUMN staging.crm_sentiment.account_id IS 'CRM account id.';
COMMENT ON COLUMN staging.crm_sentiment.csm_owner_id IS 'CSM who recorded it.';
COMMENT ON COLUMN staging.crm_sentiment.sentiment IS 'CSM judgement: 1 red, 2 yellow, 3 green. Kept apart from computed signals.';
COMMENT ON COLUMN staging.crm_sentiment.note IS 'Free text.';
COMMENT ON COLUMN staging.crm_sentiment.recorded_at IS 'When the CSM recorded it.';
COMMENT ON COLUMN staging.crm_sentiment._batch_id IS 'meta.load_batches row that last wrote this row.';

CREATE TABLE raw.survey_responses (
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _line      bigint      NOT NULL,
    response_id text,
    account_id text,
    respondent text,
    survey text,
    question_id text,
    answer text,
    submitted_at text,
    _cursor    text,
    _loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON raw.survey_responses USING brin (_batch_id);
COMMENT ON TABLE raw.survey_responses IS 'Rows of stream survey_responses as received, all text; one batch per load.';

CREATE TABLE staging.survey_responses (
    response_id text,
    account_id text,
    respondent text,
    survey text,
    question_id text,
    answer numeric,
    submitted_at timestamptz,
    _source    text        NOT NULL,
    _batch_id  bigint      NOT NULL,
    _loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (response_id, question_id)
);
COMMENT ON COLUMN staging.survey_responses.response_id IS 'Survey response id.';
COMMENT ON COLUMN staging.survey_responses.account_id IS 'CRM account id.';
COMMENT ON COLUMN staging.survey_responses.respondent IS 'Who answered (e-mail or user id).';
COMMENT ON COLUMN staging.survey_responses.survey IS 'nps, csat or cmi.';
COMMENT ON COLUMN staging.survey_responses.question_id IS 'Question (nps, csat, or a CMI question id).';
COMMENT ON COLUMN staging.survey_responses.answer IS 'nps 0-10, csat 1-5, cmi 1-5.';
COMMENT ON COLUMN staging.survey_responses.submitted_at IS 'When it was submitted.';
COMMENT ON COLUMN staging.survey_responses._batch_id IS 'meta.load_batches row that last wrote this row.';
