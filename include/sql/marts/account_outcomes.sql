-- marts.account_outcomes, rebuilt whole from the CRM contracts.
-- A contract term ends on end_date. Its successor is another contract of the
-- account starting within grace_days of that end (before or after it) and
-- running past it. With a successor, the end is a renewal, an expansion or a
-- contraction by the change of ARR; without one, and with no other contract
-- still running the day after, the account churned on end_date, which is
-- known only once the grace days have passed (known_on) by as_of (the last
-- day the CRM data describes). A team that records churn directly (stream
-- churn_events: a CSV, a CRM object) adds its churns too, known the day after.
-- Parameters: grace_days, expansion_min_change, as_of.
--
-- One rebuild at a time: the score step and an evaluation (or two DAG runs)
-- may rebuild at once, and the second one's DELETE does not see the rows the
-- first inserts, so its INSERT hit their keys (a UniqueViolation under make
-- airflow). The lock lasts to the end of the caller's transaction, and
-- build_outcomes always runs this file in one.
SELECT pg_advisory_xact_lock(hashtext('customer_health.outcomes'));

DELETE FROM marts.account_outcomes;

INSERT INTO marts.account_outcomes
    (account_id, outcome, outcome_date, known_on, arr_before, arr_after, contract_id, evidence)
WITH terms AS (
    SELECT c.account_id, c.contract_id, c.start_date, c.end_date, c.arr
    FROM staging.crm_contracts AS c
    WHERE c.account_id IS NOT NULL AND c.end_date IS NOT NULL AND c.start_date IS NOT NULL
),
ended AS (
    SELECT t.*
    FROM terms AS t
    WHERE t.end_date <= %(as_of)s::date
),
-- The successor and the cover are found by joining on the account (hashed:
-- an account has a handful of terms), not by a subquery per ended term over
-- all terms (the CTE has no index: 20,000 accounts took 19.5 s that way).
successors AS (
    SELECT DISTINCT ON (e.contract_id)
           e.contract_id, n.contract_id AS successor_id, n.start_date AS successor_start, n.arr AS successor_arr
    FROM ended AS e
    JOIN terms AS n
      ON n.account_id = e.account_id AND n.contract_id <> e.contract_id
     AND n.start_date BETWEEN e.end_date - %(grace_days)s::int AND e.end_date + %(grace_days)s::int
     AND n.end_date > e.end_date
    ORDER BY e.contract_id, n.start_date, n.contract_id
),
covered AS (
    SELECT DISTINCT e.contract_id
    FROM ended AS e
    JOIN terms AS o
      ON o.account_id = e.account_id AND o.contract_id <> e.contract_id
     AND o.start_date <= e.end_date AND o.end_date > e.end_date
),
with_successor AS (
    SELECT e.account_id, e.contract_id, e.end_date, e.arr,
           s.successor_id, s.successor_start, s.successor_arr,
           cv.contract_id IS NOT NULL AS still_covered
    FROM ended AS e
    LEFT JOIN successors AS s ON s.contract_id = e.contract_id
    LEFT JOIN covered AS cv ON cv.contract_id = e.contract_id
),
classified AS (
    SELECT w.*,
           CASE
               WHEN w.successor_id IS NOT NULL AND w.arr > 0
                    AND w.successor_arr > w.arr * (1 + %(expansion_min_change)s::numeric) THEN 'expanded'
               WHEN w.successor_id IS NOT NULL AND w.arr > 0
                    AND w.successor_arr < w.arr * (1 - %(expansion_min_change)s::numeric) THEN 'contracted'
               WHEN w.successor_id IS NOT NULL THEN 'renewed'
               WHEN NOT w.still_covered AND w.end_date + %(grace_days)s::int < %(as_of)s::date THEN 'churned'
           END AS outcome
    FROM with_successor AS w
)
SELECT DISTINCT ON (c.account_id, c.end_date, c.outcome)
       c.account_id, c.outcome, c.end_date,
       CASE WHEN c.outcome = 'churned' THEN c.end_date + %(grace_days)s::int + 1 ELSE coalesce(c.successor_start, c.end_date) END,
       c.arr, c.successor_arr, c.contract_id,
       CASE WHEN c.outcome = 'churned'
            THEN format('contract %%s ended %%s; no contract followed within %%s days', c.contract_id, c.end_date, %(grace_days)s::int)
            ELSE format('contract %%s ended %%s; contract %%s started %%s (ARR %%s -> %%s)', c.contract_id, c.end_date,
                        c.successor_id, c.successor_start, c.arr, c.successor_arr) END
FROM classified AS c
WHERE c.outcome IS NOT NULL
ORDER BY c.account_id, c.end_date, c.outcome, c.contract_id;

INSERT INTO marts.account_outcomes
    (account_id, outcome, outcome_date, known_on, arr_before, arr_after, contract_id, evidence)
SELECT e.account_id, 'churned', e.churned_at, e.churned_at + 1, NULL, NULL, NULL,
       format('churn recorded by %%s on %%s%%s', e._source, e.churned_at,
              coalesce(': ' || e.reason, ''))
FROM staging.churn_events AS e
WHERE e.churned_at <= %(as_of)s::date
ORDER BY e.account_id, e.churned_at
ON CONFLICT (account_id, outcome_date, outcome) DO NOTHING;

ANALYZE marts.account_outcomes;
