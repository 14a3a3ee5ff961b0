-- The CRM account version known at the end of each target day, as the standard
-- statement reads it (history.crm_accounts over history.known_days): a later
-- CRM load that changes a column never changes an earlier day. At most one
-- version is known on a day (a version replaced the day it was loaded is known
-- on none). Gives the creation day (tenure since crm_created) and the columns
-- the crm kinds read.
SELECT t.account_id, t.day, (h.created_at AT TIME ZONE 'UTC')::date AS created_on{columns}
FROM target AS t
JOIN history.crm_accounts AS h
  ON h.account_id = t.account_id AND history.known_days(h.valid_from, h.valid_to) @> t.day
-- Only versions known on some target day (constant bounds: the expression
-- statistics of known_days size it, as in marts/account_daily_kpis.sql).
WHERE history.known_days(h.valid_from, h.valid_to) && daterange(%(start)s::date, %(end)s::date, '[]')
