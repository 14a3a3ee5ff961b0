-- marts.accounts: who each account is (name, CSM, segment inputs, ARR, renewal
-- date) as of each day, so that scoring, playbooks, digests and pages read one
-- mart instead of reaching into staging.crm_accounts / crm_owners / crm_contracts.
-- A slowly changing dimension (type 2): one row per account version, valid on
-- the days valid_from <= day < valid_to. Built by build_health_scores' first
-- step from staging (include/sql/marts/accounts.sql). Numbered V020+ so that
-- migrations written in parallel do not collide.

CREATE TABLE marts.accounts (
    account_id        text        NOT NULL,
    valid_from        date,
    valid_to          date,
    name              text,
    parent_account_id text,
    csm_owner_id      text,
    csm_name          text,
    csm_email         text,
    employees         integer,
    industry          text,
    region            text,
    lifecycle_stage   text,
    created_at        timestamptz,
    arr               numeric,
    renewal_date      date,
    last_built_on     date        NOT NULL,
    built_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to > valid_from)
);
CREATE UNIQUE INDEX accounts_version_key ON marts.accounts (account_id, valid_from) NULLS NOT DISTINCT;
CREATE UNIQUE INDEX accounts_current_key ON marts.accounts (account_id) WHERE valid_to IS NULL;
COMMENT ON TABLE marts.accounts IS 'CRM accounts as of each day (SCD type 2): one row per account version, valid from valid_from (inclusive) to valid_to (exclusive). Read "as of day D" with marts.accounts_as_of(D); today''s with marts.accounts_current.';
COMMENT ON COLUMN marts.accounts.account_id IS 'CRM account id (staging.crm_accounts.account_id).';
COMMENT ON COLUMN marts.accounts.valid_from IS 'First day this version holds. NULL for an account''s first version: the CRM keeps no history, so the first version seen stands for every earlier day.';
COMMENT ON COLUMN marts.accounts.valid_to IS 'Day the next version starts (exclusive); NULL while this is the current version. A version closes on the day a build saw the CRM row change (or the account leave the CRM); see last_built_on for backfills.';
COMMENT ON COLUMN marts.accounts.name IS 'Account name.';
COMMENT ON COLUMN marts.accounts.parent_account_id IS 'Parent account for groups; NULL for top level.';
COMMENT ON COLUMN marts.accounts.csm_owner_id IS 'CRM user id of the CSM who owns the account.';
COMMENT ON COLUMN marts.accounts.csm_name IS 'The CSM''s display name (staging.crm_owners); NULL when unowned or the owner is unknown.';
COMMENT ON COLUMN marts.accounts.csm_email IS 'The CSM''s e-mail: where their tasks and digests go; NULL sends them to the fallback queue.';
COMMENT ON COLUMN marts.accounts.employees IS 'Company size: a segment input (scorecards.yml segment) and the per-employee denominator.';
COMMENT ON COLUMN marts.accounts.industry IS 'Industry: a segment input.';
COMMENT ON COLUMN marts.accounts.region IS 'Region: a segment input.';
COMMENT ON COLUMN marts.accounts.lifecycle_stage IS 'CRM lifecycle stage (onboarding, customer, ...): a segment input.';
COMMENT ON COLUMN marts.accounts.created_at IS 'When the account became a customer; tenure (a segment input) counts from its UTC date.';
COMMENT ON COLUMN marts.accounts.arr IS 'Sum of the ARR of the contracts covering the build day (start_date <= day < end_date); 0 once every contract has ended; NULL before the first contract started.';
COMMENT ON COLUMN marts.accounts.renewal_date IS 'Nearest end_date >= the build day among contracts started by then; NULL if none.';
COMMENT ON COLUMN marts.accounts.last_built_on IS 'The latest build day that saw this version. A build of an earlier day (a backfill) that sees a change counts it from the day after, so days already built keep what they were built with.';
COMMENT ON COLUMN marts.accounts.built_at IS 'When the build that wrote this version ran.';

CREATE VIEW marts.accounts_current AS
SELECT * FROM marts.accounts WHERE valid_to IS NULL;
COMMENT ON VIEW marts.accounts_current IS 'The current version of every account still in the CRM.';

-- The one definition of "as of day D" (a SQL function the planner inlines).
CREATE FUNCTION marts.accounts_as_of(as_of date) RETURNS SETOF marts.accounts
LANGUAGE sql STABLE AS $$
    SELECT * FROM marts.accounts
    WHERE (valid_from IS NULL OR valid_from <= as_of) AND (valid_to IS NULL OR as_of < valid_to)
$$;
COMMENT ON FUNCTION marts.accounts_as_of(date) IS 'The version of every account valid on the given day.';
