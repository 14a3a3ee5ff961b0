-- marts.health_score_changes is written a day at a time (about 370,000 rows a
-- day at 20,000 accounts) and read by (account, day, version) equality only
-- (playbooks/contexts.sql), so its key leads with the day: a day's rows append
-- at the right edge of one index, where the account-leading key scattered them
-- over every account's stretch of the whole history (each insert dirtied a leaf
-- page per account, and that grew with history). The day index of V045 is then
-- the key's own prefix: dropped, one index to maintain instead of two.
-- account_id stays in the key, as Citus needs on a table distributed by it.
ALTER TABLE marts.health_score_changes DROP CONSTRAINT health_score_changes_pkey;
ALTER TABLE marts.health_score_changes
    ADD CONSTRAINT health_score_changes_pkey PRIMARY KEY (day, config_version, account_id, horizon_days, measure);
DROP INDEX marts.health_score_changes_day_idx;
