-- The KPI statement reads only the user, contract and licence versions known on
-- its output days (issue 14: the daily build must not re-read all CRM history
-- each day). Expression statistics tell the planner how many versions
-- "known_days && the output's days" keeps (without them it guesses 0.5 %, and
-- plans the joins after it for a few hundred rows). Filled by the ANALYZE the
-- loader runs after changing a table.
-- No GiST index on the expression: with one on history.crm_accounts the
-- planner hashed the rebuild's whole account x day grid (18M rows) instead of
-- the accounts, and ran out of disk; while most versions are current a probe
-- would not beat the scan anyway.
CREATE STATISTICS history.users_known_days ON (history.known_days(valid_from, valid_to)) FROM history.users;
CREATE STATISTICS history.crm_contracts_known_days ON (history.known_days(valid_from, valid_to)) FROM history.crm_contracts;
CREATE STATISTICS history.licences_known_days ON (history.known_days(valid_from, valid_to)) FROM history.licences;

ANALYZE history.users, history.crm_contracts, history.licences;
