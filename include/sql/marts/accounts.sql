-- marts.accounts as of one build day: the CRM as staging holds it now, written
-- as a new version where it differs from the current one. Parameters: day.
--
-- A changed account closes its current version at `day` and opens one from
-- `day`; a version opened on `day` itself is corrected in place (a second build
-- of the same day sees newer CRM data, and history stays one version per day).
-- A build of a day before the current version started (a backfill) never
-- rewrites history: the change counts from the day after the latest day built
-- (last_built_on). The same staging built twice changes nothing.

SELECT pg_advisory_xact_lock(hashtext('customer_health.accounts'));

-- What the CRM says today, with the owner and the contract figures on the day.
CREATE TEMP TABLE _crm_accounts ON COMMIT DROP AS
WITH contract_figures AS (
    SELECT c.account_id,
           CASE WHEN bool_or(c.start_date <= %(day)s::date)
                THEN coalesce(sum(c.arr) FILTER (WHERE c.start_date <= %(day)s::date AND %(day)s::date < c.end_date), 0)
           END AS arr,
           min(c.end_date) FILTER (WHERE c.start_date <= %(day)s::date AND c.end_date >= %(day)s::date) AS renewal_date
    FROM staging.crm_contracts AS c
    GROUP BY c.account_id
)
SELECT a.account_id, a.name, a.parent_account_id, a.csm_owner_id, o.name AS csm_name, o.email AS csm_email,
       a.employees, a.industry, a.region, a.lifecycle_stage, a.created_at, f.arr, f.renewal_date
FROM staging.crm_accounts AS a
LEFT JOIN staging.crm_owners AS o ON o.owner_id = a.csm_owner_id
LEFT JOIN contract_figures AS f ON f.account_id = a.account_id;
ANALYZE _crm_accounts;

-- Per account that is new, changed or gone: from which day the change counts
-- (never on a day already built, other than this one, nor before an earlier version ended).
CREATE TEMP TABLE _account_changes ON COMMIT DROP AS
SELECT coalesce(n.account_id, c.account_id) AS account_id,
       n.account_id IS NULL AS gone,
       c.account_id IS NOT NULL AS has_current,
       h.account_id IS NOT NULL AS has_history,
       greatest(CASE WHEN %(day)s::date >= c.last_built_on THEN %(day)s::date ELSE c.last_built_on + 1 END,
                %(day)s::date, c.valid_from, h.last_valid_to) AS change_on
FROM _crm_accounts AS n
FULL JOIN marts.accounts_current AS c ON c.account_id = n.account_id
LEFT JOIN (SELECT account_id, max(valid_to) AS last_valid_to FROM marts.accounts GROUP BY account_id) AS h
       ON h.account_id = coalesce(n.account_id, c.account_id)
WHERE c.account_id IS NULL OR n.account_id IS NULL
   OR (n.name, n.parent_account_id, n.csm_owner_id, n.csm_name, n.csm_email, n.employees, n.industry, n.region,
       n.lifecycle_stage, n.created_at, n.arr, n.renewal_date)
      IS DISTINCT FROM
      (c.name, c.parent_account_id, c.csm_owner_id, c.csm_name, c.csm_email, c.employees, c.industry, c.region,
       c.lifecycle_stage, c.created_at, c.arr, c.renewal_date);
ANALYZE _account_changes;

-- A current version that started on the change day is replaced, not closed.
DELETE FROM marts.accounts AS a
USING _account_changes AS x
WHERE a.account_id = x.account_id AND a.valid_to IS NULL AND a.valid_from = x.change_on;

UPDATE marts.accounts AS a
SET valid_to = x.change_on
FROM _account_changes AS x
WHERE a.account_id = x.account_id AND a.valid_to IS NULL;

-- An account's first version stands for all earlier days (valid_from NULL);
-- any later one, including an account back in the CRM, starts on its change day.
INSERT INTO marts.accounts
    (account_id, valid_from, name, parent_account_id, csm_owner_id, csm_name, csm_email, employees, industry,
     region, lifecycle_stage, created_at, arr, renewal_date, last_built_on)
SELECT n.account_id, CASE WHEN x.has_history THEN x.change_on END,
       n.name, n.parent_account_id, n.csm_owner_id, n.csm_name, n.csm_email, n.employees, n.industry,
       n.region, n.lifecycle_stage, n.created_at, n.arr, n.renewal_date, x.change_on
FROM _account_changes AS x
JOIN _crm_accounts AS n USING (account_id)
WHERE NOT x.gone;

-- Every current version was seen by this build.
UPDATE marts.accounts SET last_built_on = %(day)s::date
WHERE valid_to IS NULL AND last_built_on < %(day)s::date;

ANALYZE marts.accounts;
