-- Health scores of a range of days (first_day .. last_day, one day for the daily
-- run) under one scorecard config version. Parameters: first_day, last_day, version.
-- Runs inside the scoring transaction after the rows of those days and that
-- version were deleted, so a rerun gives the same rows. Every step is keyed by
-- (account, day): scoring a range in one pass gives exactly the rows of scoring
-- its days one by one (tested), which is what lets a backtest re-score a year
-- in minutes. The one thing that reads earlier scored days, a stale feed's last
-- good value, is why the engine scores a day with a stale feed on its own.
--
-- The temporary tables below are ANALYZEd as soon as they are filled: without
-- statistics the planner estimates them at 1-3 rows and joins them to every
-- account by nested loops (one day at 20,000 accounts took 366 s that way).

-- A caller may score several times in one transaction (the review tool scores
-- the current and the candidate scorecards in one it rolls back), where
-- ON COMMIT DROP has not dropped the previous scoring's tables yet.
DROP TABLE IF EXISTS pg_temp._kv, pg_temp._assigned, pg_temp._carried, pg_temp._components,
    pg_temp._scores, pg_temp._partners;

-- The window sorts and hashes over the account x measure grid spill to disk at
-- the default 4 MB; JIT compiles longer than these statements run; every join
-- here is of whole temp tables, best hashed (the planner sorted 190,000 wide
-- measure rows to merge-join them with a carried table of none: 0.5 s of a
-- day at 20,000 accounts). For this transaction only.
SET LOCAL work_mem = '256MB';
SET LOCAL jit = off;
SET LOCAL enable_mergejoin = off;

-- The KPIs the version reads (its measures and segment conditions) of every
-- account on each day, as text and (when numeric) as a number: one row per
-- account, day and field. Composed by the engine (part kv_columns): one
-- (field, text, number) triple per KPI column the version names, so only those
-- columns are read (unpacking every column through jsonb cost more than the
-- rest of the scoring).
CREATE TEMP TABLE _kv ON COMMIT DROP AS
SELECT k.account_id, k.day, f.field, f.text_value, f.num_value
FROM marts.account_daily_kpis AS k
CROSS JOIN LATERAL (VALUES {kv_columns}) AS f(field, text_value, num_value)
WHERE k.day BETWEEN %(first_day)s::date AND %(last_day)s::date;
-- No index: every reader joins it whole, hashed.
ANALYZE _kv;

-- The scorecard of each account: the first, in file order, whose every segment condition holds.
-- An account that churned before the day (marts.account_outcomes) is no longer a customer: no score.
CREATE TEMP TABLE _assigned ON COMMIT DROP AS
-- The accounts and days come from _kv (every KPI row gives it a row per field):
-- a day's KPI rows lie on as many pages as accounts, read once, not twice.
-- Materialized, so the churn test runs once per account and day, not per field.
WITH account_days AS MATERIALIZED (
    SELECT DISTINCT account_id, day FROM _kv
),
-- Every condition tested once per account and day, as one hashed join (tested
-- per account and candidate scorecard, with a key lookup in _kv each, it took
-- 0.6 s a day at 20,000 accounts). A missing KPI fails its condition.
failing AS MATERIALIZED (
    SELECT DISTINCT a.account_id, a.day, c.scorecard
    FROM account_days AS a
    CROSS JOIN meta.scorecard_conditions AS c
    LEFT JOIN _kv AS kv ON kv.account_id = a.account_id AND kv.day = a.day AND kv.field = c.field
    WHERE c.config_version = %(version)s::text
      AND NOT util.condition_holds(c.op, c.text_values, kv.text_value, kv.num_value)
)
SELECT DISTINCT ON (a.account_id, a.day) a.account_id, a.day, s.scorecard, s.red_below, s.green_from, s.min_coverage
FROM account_days AS a
JOIN meta.scorecards AS s ON s.config_version = %(version)s::text
WHERE NOT EXISTS (SELECT 1 FROM failing AS f
                  WHERE f.account_id = a.account_id AND f.day = a.day AND f.scorecard = s.scorecard)
  AND NOT marts.churned_by(a.account_id, a.day - 1)  -- its churn day is still a customer's
ORDER BY a.account_id, a.day, s.position;
ANALYZE _assigned;

-- A stale feed must not drag scores down: each measure of a stale stream
-- carries its last good value (the newest earlier row in state ok or
-- stale_carried). The components are keyed day first (V071), so the search
-- walks back one day per step with key lookups, only for the measures not
-- found yet: almost all are found the day before. It ends at the version's
-- first scored day. Empty, and nearly free, on a day without a stale feed.
CREATE TEMP TABLE _carried ON COMMIT DROP AS
WITH RECURSIVE stale_measures AS (
    SELECT a.account_id, a.day, m.measure
    FROM _assigned AS a
    JOIN meta.scorecard_measures AS m ON m.config_version = %(version)s::text AND m.scorecard = a.scorecard
    JOIN meta.source_quality AS q ON q.day = a.day AND q.stream = m.stream AND q.stale
),
walk AS (
    SELECT s.account_id, s.day, s.measure, s.day - 1 AS probe_day,
           NULL::numeric AS raw_value, NULL::numeric AS value, false AS found
    FROM stale_measures AS s
    UNION ALL
    SELECT w.account_id, w.day, w.measure, w.probe_day - 1, c.raw_value, c.value, c.day IS NOT NULL
    FROM walk AS w
    LEFT JOIN marts.health_score_components AS c
      ON c.day = w.probe_day AND c.config_version = %(version)s::text AND c.account_id = w.account_id
     AND c.measure = w.measure AND c.state IN ('ok', 'stale_carried')
    WHERE NOT w.found
      AND w.probe_day >= (SELECT min(h.day) FROM marts.health_scores AS h WHERE h.config_version = %(version)s::text)
)
SELECT account_id, day, measure, raw_value, value
FROM walk
WHERE found;
ANALYZE _carried;

CREATE TEMP TABLE _components ON COMMIT DROP AS
WITH measures AS (
    SELECT a.account_id, a.day, m.scorecard, m.group_name, m.group_weight, m.measure, m.kpi, m.stream,
           m.direction, m.method, m.red, m.green, m.weight, m.missing_score,
           kv.num_value AS raw_value,
           q.stream IS NOT NULL AS stream_stale
    FROM _assigned AS a
    JOIN meta.scorecard_measures AS m ON m.config_version = %(version)s::text AND m.scorecard = a.scorecard
    LEFT JOIN _kv AS kv ON kv.account_id = a.account_id AND kv.day = a.day AND kv.field = m.kpi
    LEFT JOIN meta.source_quality AS q ON q.day = a.day AND q.stream = m.stream AND q.stale
),
fresh AS (
    SELECT ms.*, ms.raw_value AS fresh_value
    FROM measures AS ms
    WHERE NOT ms.stream_stale AND ms.raw_value IS NOT NULL
),
percentiles AS (
    -- Mid-rank percentile within the scorecard (the account's segment): ties share, a lone account is 50.
    SELECT account_id, day, measure,
           100.0 * ((rank() OVER w_sorted - 1) + 0.5 * count(*) OVER w_ties) / count(*) OVER w_all AS pct
    FROM fresh
    WHERE method = 'percentile'
    WINDOW w_sorted AS (PARTITION BY day, scorecard, measure ORDER BY fresh_value),
           w_ties   AS (PARTITION BY day, scorecard, measure, fresh_value),
           w_all    AS (PARTITION BY day, scorecard, measure)
),
valued AS (
    SELECT ms.account_id, ms.day, ms.scorecard, ms.group_name, ms.group_weight, ms.measure, ms.kpi, ms.weight,
           coalesce(ca.raw_value, CASE WHEN NOT ms.stream_stale THEN ms.raw_value END) AS raw_value,
           CASE
               WHEN ca.account_id IS NOT NULL THEN 'stale_carried'
               WHEN ms.stream_stale OR ms.raw_value IS NULL THEN
                   CASE WHEN ms.missing_score IS NULL THEN 'missing_skipped' ELSE 'missing_scored' END
               ELSE 'ok'
           END AS state,
           CASE
               WHEN ca.account_id IS NOT NULL THEN ca.value
               WHEN ms.stream_stale OR ms.raw_value IS NULL THEN ms.missing_score
               WHEN ms.method = 'thresholds' THEN 100 * greatest(0, least(1, (ms.raw_value - ms.red) / (ms.green - ms.red)))
               WHEN ms.method = 'boolean' THEN CASE WHEN (ms.raw_value > 0) = (ms.direction = 'higher_is_better') THEN 100 ELSE 0 END
               WHEN ms.method = 'percentile' THEN
                   CASE WHEN ms.direction = 'higher_is_better' THEN p.pct ELSE 100 - p.pct END
           END AS value
    FROM measures AS ms
    LEFT JOIN _carried AS ca ON ca.account_id = ms.account_id AND ca.day = ms.day AND ca.measure = ms.measure
    LEFT JOIN percentiles AS p ON p.account_id = ms.account_id AND p.day = ms.day AND p.measure = ms.measure
),
weighted AS (
    -- Effective weight: the group's share among groups that have a value, times the
    -- measure's share among its group's measures that have a value.
    SELECT v.*,
           sum(v.weight) FILTER (WHERE v.value IS NOT NULL) OVER (PARTITION BY v.account_id, v.day, v.group_name) AS group_present_weight,
           sum(v.weight) OVER (PARTITION BY v.account_id, v.day, v.group_name) AS group_total_weight
    FROM valued AS v
),
group_shares AS (
    SELECT account_id, day, group_name, max(group_weight) AS group_weight,
           bool_or(value IS NOT NULL) AS has_value
    FROM valued
    GROUP BY account_id, day, group_name
),
account_shares AS (
    SELECT account_id, day,
           sum(group_weight) FILTER (WHERE has_value) AS present_group_weight,
           sum(group_weight) AS total_group_weight
    FROM group_shares
    GROUP BY account_id, day
)
SELECT w.account_id, w.day, w.scorecard, w.group_name, w.measure, w.kpi, w.raw_value, round(w.value, 2) AS value, w.state,
       CASE WHEN w.value IS NULL THEN 0
            ELSE (w.group_weight / s.present_group_weight) * (w.weight / w.group_present_weight) END AS weight,
       (w.group_weight / s.total_group_weight) * (w.weight / w.group_total_weight) AS nominal_weight
FROM weighted AS w
JOIN account_shares AS s USING (account_id, day);
ANALYZE _components;

INSERT INTO marts.health_score_components
    (account_id, day, config_version, scorecard, group_name, measure, kpi, raw_value, value, weight, contribution, state)
SELECT account_id, day, %(version)s::text, scorecard, group_name, measure, kpi, raw_value, value,
       round(weight, 5), round(weight * coalesce(value, 0), 4), state
FROM _components;

-- The totals come from the components just computed (contribution rounded as
-- stored), not read back from the table written above.
CREATE TEMP TABLE _scores ON COMMIT DROP AS
WITH totals AS (
    SELECT c.account_id, c.day,
           sum(round(c.weight * coalesce(c.value, 0), 4)) AS score,
           sum(CASE WHEN c.state IN ('ok', 'stale_carried') THEN c.nominal_weight ELSE 0 END) AS coverage,
           count(*) FILTER (WHERE c.state = 'stale_carried') AS stale_measures
    FROM _components AS c
    GROUP BY c.account_id, c.day
)
SELECT t.account_id, t.day, a.scorecard,
       CASE WHEN t.coverage >= a.min_coverage THEN round(t.score, 2) END AS score,
       CASE WHEN t.coverage < a.min_coverage THEN 'insufficient_data'
            WHEN t.score < a.red_below THEN 'red'
            WHEN t.score >= a.green_from THEN 'green'
            ELSE 'yellow' END AS band,
       round(t.coverage, 3) AS coverage, t.stale_measures
FROM totals AS t
JOIN _assigned AS a USING (account_id, day);
ANALYZE _scores;

-- Each day's score against 1, 7 and 30 days earlier (change_1d / 7d / 30d; the
-- view marts.health_score_changes splits the same changes by measure, V095).
-- The earlier day is in this pass (_scores) or scored before it: the engine
-- scores passes in order, and a day with a stale feed in a pass of its own, so
-- a day compares with exactly the score day-by-day scoring would have stored.
-- Stored days are read by day (the day index of V045): only the days 1, 7 and
-- 30 before the pass's days, whatever the history. Only accounts scored (with
-- a number) on both days compare; the others keep NULL. Computed before the
-- insert, so each score row is written once (an UPDATE afterwards wrote every
-- row twice: 3.2 s of an 8-day re-scoring pass at 20,000 accounts).
CREATE TEMP TABLE _partners ON COMMIT DROP AS
SELECT s.account_id, s.day, s.score
FROM _scores AS s
WHERE s.score IS NOT NULL
UNION ALL
SELECT b.account_id, b.day, b.score
FROM marts.health_scores AS b
WHERE b.config_version = %(version)s::text AND b.score IS NOT NULL
  AND b.day < %(first_day)s::date
  AND b.day = ANY (ARRAY(SELECT DISTINCT d::date - n
                         FROM generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day') AS d
                         CROSS JOIN (VALUES (1), (7), (30)) AS before(n)));
ANALYZE _partners;

INSERT INTO marts.health_scores
    (account_id, day, config_version, scorecard, score, band, coverage, stale_measures,
     change_1d, change_7d, change_30d)
SELECT s.account_id, s.day, %(version)s::text, s.scorecard, s.score, s.band, s.coverage, s.stale_measures,
       s.score - b1.score, s.score - b7.score, s.score - b30.score
FROM _scores AS s
LEFT JOIN _partners AS b1 ON b1.account_id = s.account_id AND b1.day = s.day - 1
LEFT JOIN _partners AS b7 ON b7.account_id = s.account_id AND b7.day = s.day - 7
LEFT JOIN _partners AS b30 ON b30.account_id = s.account_id AND b30.day = s.day - 30;

-- The quadrants and the playbooks read the pass's scores by day next (and the
-- next pass its partners): the new days must be in the statistics, or the
-- planner takes each for one row. The day and version only, from a sample of
-- 3,000 rows (migration V100), a cost that does not grow with the days
-- stored; the whole table when a tenth of it changed (scoring.engine).
ANALYZE marts.health_scores (day, config_version);
