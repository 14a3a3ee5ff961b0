-- How the warehouse would spread over a Citus cluster (README, "More than one machine").
-- Not run by the pipeline: a migration to run once, on the coordinator, after the
-- extension (CREATE EXTENSION citus) and before the first load.
-- tests/integration/test_citus_layout.py checks it against the migrated schema: every
-- unique key of a distributed table holds its distribution column, and the tables listed
-- under "needs a key change" are exactly those whose keys do not yet.

-- Per account: co-located on account_id, so every join and every per-account window of the
-- KPI and scoring SQL stays on one worker.
SELECT create_distributed_table('staging.crm_accounts', 'account_id');
SELECT create_distributed_table('staging.licences', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('staging.churn_events', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('intermediate.account_day_activity', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('intermediate.user_day_activity', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('intermediate.account_day_state', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('intermediate.account_day_events', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('intermediate.account_event_state', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('intermediate.account_day_user_events', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('marts.accounts', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('marts.account_daily_kpis', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('marts.health_scores', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('marts.health_score_components', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('marts.parent_health_scores', 'parent_account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('marts.account_quadrants', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('marts.account_outcomes', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('history.crm_accounts', 'account_id', colocate_with => 'staging.crm_accounts');
SELECT create_distributed_table('history.licences', 'account_id', colocate_with => 'staging.crm_accounts');

-- Small and read by every worker: config, bookkeeping the scoring joins, owners, the event-name bits.
SELECT create_reference_table('meta.config_versions');
SELECT create_reference_table('meta.scorecard_versions');
SELECT create_reference_table('meta.scorecards');
SELECT create_reference_table('meta.scorecard_conditions');
SELECT create_reference_table('meta.scorecard_measures');
SELECT create_reference_table('meta.source_quality');
SELECT create_reference_table('meta.scoring_runs');
SELECT create_reference_table('intermediate.event_names');
SELECT create_reference_table('intermediate.rolled_up_days');
SELECT create_reference_table('intermediate.account_event_state_through');
SELECT create_reference_table('meta.kpi_definitions');
SELECT create_reference_table('staging.crm_owners');

-- Needs a key change first: per account, but a unique key without account_id. A migration would
-- make each key (account_id, <key>) and change the merge / ON CONFLICT statements that name it:
-- needs-key-change: staging.usage_events staging.users staging.crm_contracts staging.crm_expansions
-- needs-key-change: staging.crm_sentiment staging.survey_responses marts.cmi_scores marts.csm_tasks
-- needs-key-change: history.crm_contracts history.users
-- Stay on the coordinator (local tables, written once per load or run): raw.*, meta.load_batches,
-- meta.source_state, meta.source_files, meta.quarantine, meta.digests_sent, meta.schema_migrations, marts.csm_task_history,
-- marts.evaluation_*.
