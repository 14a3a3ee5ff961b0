-- history.<stream>: every version of the mutable snapshot streams the KPIs read
-- (CRM accounts and contracts, licences, users), SCD type 2, kept by the loader
-- in the same transaction as the staging merge (plugins/customer_health/warehouse/history.py).
-- staging.<stream> is what the source says now; history.<stream> is what the
-- warehouse knew at each moment, so that a past day's KPIs read the version
-- valid on that day instead of today's. Numbered V040+ so that migrations
-- written in parallel do not collide.

CREATE SCHEMA IF NOT EXISTS history;
COMMENT ON SCHEMA history IS 'Versions of snapshot streams (SCD type 2) as each load found them: read a day with history.known_days(valid_from, valid_to) @> day.';

CREATE TABLE history.crm_accounts (
    account_id        text NOT NULL,
    name              text,
    parent_account_id text,
    csm_owner_id      text,
    employees         integer,
    industry          text,
    region            text,
    lifecycle_stage   text,
    created_at        timestamptz,
    valid_from        timestamptz,
    valid_to          timestamptz,
    deleted           boolean     NOT NULL DEFAULT false,
    loaded_at         timestamptz NOT NULL,
    _source           text        NOT NULL,
    opened_in_batch   bigint      NOT NULL,
    closed_in_batch   bigint,
    CHECK (valid_to >= valid_from)
);

CREATE TABLE history.crm_contracts (
    contract_id     text NOT NULL,
    account_id      text,
    start_date      date,
    end_date        date,
    arr             numeric,
    status          text,
    valid_from      timestamptz,
    valid_to        timestamptz,
    deleted         boolean     NOT NULL DEFAULT false,
    loaded_at       timestamptz NOT NULL,
    _source         text        NOT NULL,
    opened_in_batch bigint      NOT NULL,
    closed_in_batch bigint,
    CHECK (valid_to >= valid_from)
);

CREATE TABLE history.licences (
    account_id      text NOT NULL,
    seats           integer,
    valid_from      timestamptz,
    valid_to        timestamptz,
    deleted         boolean     NOT NULL DEFAULT false,
    loaded_at       timestamptz NOT NULL,
    _source         text        NOT NULL,
    opened_in_batch bigint      NOT NULL,
    closed_in_batch bigint,
    CHECK (valid_to >= valid_from)
);

CREATE TABLE history.users (
    user_id         text NOT NULL,
    account_id      text,
    created_at      timestamptz,
    deactivated_at  timestamptz,
    role            text,
    valid_from      timestamptz,
    valid_to        timestamptz,
    deleted         boolean     NOT NULL DEFAULT false,
    loaded_at       timestamptz NOT NULL,
    _source         text        NOT NULL,
    opened_in_batch bigint      NOT NULL,
    closed_in_batch bigint,
    CHECK (valid_to >= valid_from)
);

-- One current version per key; versions of a key are read by key.
CREATE UNIQUE INDEX crm_accounts_current ON history.crm_accounts (account_id) WHERE valid_to IS NULL;
CREATE INDEX crm_accounts_key ON history.crm_accounts (account_id);
CREATE UNIQUE INDEX crm_contracts_current ON history.crm_contracts (contract_id) WHERE valid_to IS NULL;
CREATE INDEX crm_contracts_key ON history.crm_contracts (contract_id);
CREATE UNIQUE INDEX licences_current ON history.licences (account_id) WHERE valid_to IS NULL;
CREATE INDEX licences_key ON history.licences (account_id);
CREATE UNIQUE INDEX users_current ON history.users (user_id) WHERE valid_to IS NULL;
CREATE INDEX users_key ON history.users (user_id);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['crm_accounts', 'crm_contracts', 'licences', 'users'] LOOP
        EXECUTE format('COMMENT ON TABLE history.%I IS %L', t,
            format('Every version of staging.%s as the loads found it (SCD type 2): one row per key and version, '
                   'known on the days history.known_days(valid_from, valid_to) covers.', t));
        EXECUTE format('COMMENT ON COLUMN history.%I.valid_from IS %L', t,
            'When the load that found this version ran (or the snapshot was observed). NULL for the versions of the '
            'stream''s first load: the source keeps no history, so the earliest version loaded stands for every earlier day.');
        EXECUTE format('COMMENT ON COLUMN history.%I.valid_to IS %L', t,
            'When a later load found the row changed or (deleted) absent from a complete snapshot; NULL while current.');
        EXECUTE format('COMMENT ON COLUMN history.%I.deleted IS %L', t,
            'The version was closed because a complete snapshot of the stream no longer had its key (deleted at the source).');
        EXECUTE format('COMMENT ON COLUMN history.%I.loaded_at IS %L', t,
            'When this version was first loaded (valid_from without the first-load rule).');
        EXECUTE format('COMMENT ON COLUMN history.%I.opened_in_batch IS %L', t, 'meta.load_batches row that found this version.');
        EXECUTE format('COMMENT ON COLUMN history.%I.closed_in_batch IS %L', t, 'meta.load_batches row that closed it; NULL while current.');
    END LOOP;
END $$;

-- The days a version is known on, as of the end of each UTC day: a version
-- loaded at 02:00 on day X holds at the end of X, and one closed at 02:00 on
-- day Y no longer does. A version opened and closed on the same day is known
-- on no day. NULL bounds are open: the first load's versions stand for every
-- earlier day, the current one for every later day.
CREATE FUNCTION history.known_days(valid_from timestamptz, valid_to timestamptz) RETURNS daterange
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT daterange((valid_from AT TIME ZONE 'UTC')::date, (valid_to AT TIME ZONE 'UTC')::date, '[)')
$$;
COMMENT ON FUNCTION history.known_days(timestamptz, timestamptz) IS
    'UTC days on whose end a version was the one the warehouse held: [valid_from day, valid_to day).';

-- Where each stream's history begins: days before it read the earliest version
-- (see valid_from), so the evaluation flags KPIs of those days as not point in time.
CREATE VIEW meta.snapshot_history_start AS
SELECT 'crm_accounts'::text AS stream, min(loaded_at) AS first_loaded_at FROM history.crm_accounts
UNION ALL SELECT 'crm_contracts', min(loaded_at) FROM history.crm_contracts
UNION ALL SELECT 'licences', min(loaded_at) FROM history.licences
UNION ALL SELECT 'users', min(loaded_at) FROM history.users;
COMMENT ON VIEW meta.snapshot_history_start IS
    'First load kept in history.<stream> (NULL: none yet). KPIs of earlier days read that first version, not what was known then.';

ALTER TABLE meta.load_batches
    ADD COLUMN complete boolean NOT NULL DEFAULT false,
    ADD COLUMN rows_deleted bigint NOT NULL DEFAULT 0,
    ADD COLUMN rows_deletion_withheld bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN meta.load_batches.complete IS 'The extraction read the whole stream (a full snapshot, not an incremental page): keys it lacks were deleted at the source.';
COMMENT ON COLUMN meta.load_batches.rows_deleted IS 'Rows of a snapshot stream absent from this complete batch: removed from staging, their history version closed as deleted.';
COMMENT ON COLUMN meta.load_batches.rows_deletion_withheld IS 'Absent rows NOT deleted because they exceeded the share a snapshot may delete at once (see warehouse/history.py): a broken extraction must not empty a stream.';

-- What staging holds today is the first version of everything (a warehouse
-- migrated with data keeps reading what it read before).
INSERT INTO history.crm_accounts (account_id, name, parent_account_id, csm_owner_id, employees, industry, region,
                                  lifecycle_stage, created_at, loaded_at, _source, opened_in_batch)
SELECT account_id, name, parent_account_id, csm_owner_id, employees, industry, region, lifecycle_stage, created_at,
       _loaded_at, _source, _batch_id
FROM staging.crm_accounts;
INSERT INTO history.crm_contracts (contract_id, account_id, start_date, end_date, arr, status, loaded_at, _source, opened_in_batch)
SELECT contract_id, account_id, start_date, end_date, arr, status, _loaded_at, _source, _batch_id FROM staging.crm_contracts;
INSERT INTO history.licences (account_id, seats, loaded_at, _source, opened_in_batch)
SELECT account_id, seats, _loaded_at, _source, _batch_id FROM staging.licences;
INSERT INTO history.users (user_id, account_id, created_at, deactivated_at, role, loaded_at, _source, opened_in_batch)
SELECT user_id, account_id, created_at, deactivated_at, role, _loaded_at, _source, _batch_id FROM staging.users;
ANALYZE history.crm_accounts, history.crm_contracts, history.licences, history.users;

-- The KPIs now read these streams as known on each day (include/sql/marts/account_daily_kpis.sql).
COMMENT ON TABLE marts.account_daily_kpis IS 'One row per CRM account per UTC day from its creation while the CRM had it: the KPIs scorecards read, each as of the end of that day (nothing that happened or was loaded later is used: CRM accounts, contracts, licences and users come from history.<stream>, as known that day; before a stream''s first load its earliest version stands, see meta.snapshot_history_start). Windows "7d" / "30d" end on and include the day.';
COMMENT ON COLUMN marts.account_daily_kpis.parent_account_id IS 'CRM parent account, as the CRM loads known that day had it.';
COMMENT ON COLUMN marts.account_daily_kpis.csm_owner_id IS 'CSM owning the account, as known that day.';
COMMENT ON COLUMN marts.account_daily_kpis.employees IS 'Company size from the CRM as known that day, for segments and per-employee rates.';
COMMENT ON COLUMN marts.account_daily_kpis.industry IS 'Industry, as known that day.';
COMMENT ON COLUMN marts.account_daily_kpis.region IS 'Region, as known that day.';
COMMENT ON COLUMN marts.account_daily_kpis.lifecycle_stage IS 'CRM lifecycle stage as the latest CRM load by that day had it.';
COMMENT ON COLUMN marts.account_daily_kpis.licensed_seats IS 'Seats the licence allowed as the latest licence load by that day had it (history.licences); NULL without a licence (or once a complete snapshot no longer had it).';
COMMENT ON COLUMN marts.account_daily_kpis.issued_seats IS 'Users created on or before the day and not deactivated by its end, as the user loads known that day had them (a user deleted at the source stops counting from the load that found it gone).';
