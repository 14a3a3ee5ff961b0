-- marts.health_score_components is written a day at a time (about 190,000 rows
-- a day at 20,000 accounts) and read by day: the day's rescoring DELETE, the
-- changes (the day before, 7 and 30 days before: key lookups with the day),
-- the evaluation's reference dates, the dry run. With the account leading the
-- key, each day's rows were scattered over every account's stretch of the whole
-- history, so the daily insert dirtied a leaf page per account and cost more
-- as history grew. Leading with the day, a day's rows append at one edge of
-- one index; the day index of V045 is the key's own prefix and goes.
-- The one read across days of an account, a stale feed's last good value,
-- walks back day by day with key lookups (marts/health_scores.sql).
-- account_id stays in the key, as Citus needs on a table distributed by it.
ALTER TABLE marts.health_score_components DROP CONSTRAINT health_score_components_pkey;
ALTER TABLE marts.health_score_components
    ADD CONSTRAINT health_score_components_pkey PRIMARY KEY (day, config_version, account_id, measure);
DROP INDEX marts.health_score_components_day_idx;
