-- The KPI statement's plans must not depend on luck (issue 14): the planner
-- needs to know how many accounts a day's statement covers and must not scan
-- every expansion for each contract.

-- Statistics on the days each CRM account version is known on (what the KPI
-- statement filters by): without them "known_days && the output's days" is a
-- guess (0.5 %: 100 of 20,000 accounts) and every join after it is planned for
-- 100 accounts. Filled by the ANALYZE the loader runs after changing the table.
CREATE STATISTICS history.crm_accounts_known_days ON (history.known_days(valid_from, valid_to)) FROM history.crm_accounts;

-- The first expansion within a contract's term (when an "expanded" status can
-- be known): one index probe per contract instead of a scan of all expansions.
CREATE INDEX crm_expansions_account_closed_idx ON staging.crm_expansions (account_id, closed_at);

ANALYZE history.crm_accounts, staging.crm_expansions;
