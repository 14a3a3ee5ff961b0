-- The contract facts of each target day from the contract versions known at
-- its end (history.crm_contracts over history.known_days, as the standard
-- statement reads them): a later load that changes ARR or a date never changes
-- an earlier day. A contract covers start_date <= day < end_date (end_date is
-- the renewal date, when the next term starts).
-- * arr: the covering contracts' ARR (0 between contracts, NULL before the first
--   started), days_to_renewal: to the earliest end_date on or after the day of
--   a started contract; both as the standard columns arr and days_to_renewal.
-- * days_since_contract_start: since the latest start_date of a covering contract.
-- * renewals_so_far: contracts that ended on or before the day (end_date <= day)
--   and that a contract with a later start_date, started by the day, followed
--   (whatever their status): a churned last term is no renewal. NULL before the
--   first contract started.
SELECT account_id, day,
       CASE WHEN bool_or(started)
            THEN coalesce(sum(arr) FILTER (WHERE started AND day < end_date), 0) END::double precision AS arr,
       (min(end_date) FILTER (WHERE started AND end_date >= day) - day)::double precision AS days_to_renewal,
       (day - max(start_date) FILTER (WHERE started AND day < end_date))::double precision AS days_since_contract_start,
       CASE WHEN bool_or(started)
            THEN count(*) FILTER (WHERE end_date <= day AND start_date < last_start) END::double precision AS renewals_so_far
FROM (
    SELECT t.account_id, t.day, c.start_date, c.end_date, c.arr, c.start_date <= t.day AS started,
           max(c.start_date) FILTER (WHERE c.start_date <= t.day) OVER (PARTITION BY t.account_id, t.day) AS last_start
    FROM target AS t
    JOIN history.crm_contracts AS c
      ON c.account_id = t.account_id AND history.known_days(c.valid_from, c.valid_to) @> t.day
    -- only versions known on some target day (constant bounds: the expression statistics of
    -- known_days size it, as in marts/account_daily_kpis.sql)
    WHERE history.known_days(c.valid_from, c.valid_to) && daterange(%(start)s::date, %(end)s::date, '[]')
) AS known
GROUP BY account_id, day
