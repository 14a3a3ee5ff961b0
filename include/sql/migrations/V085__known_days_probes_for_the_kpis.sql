-- The KPI statement reads only the user, contract and licence versions known on
-- its output days (issue 14: the daily build must not re-read all CRM history
-- each day). Expression statistics tell the planner how many versions a day's
-- "known_days && the output's days" keeps (without them it guesses 0.5 %), and
-- a GiST index on the same expression makes it a probe once history holds many
-- closed versions. Filled by the ANALYZE the loader runs after changing a table.
CREATE STATISTICS history.users_known_days ON (history.known_days(valid_from, valid_to)) FROM history.users;
CREATE STATISTICS history.crm_contracts_known_days ON (history.known_days(valid_from, valid_to)) FROM history.crm_contracts;
CREATE STATISTICS history.licences_known_days ON (history.known_days(valid_from, valid_to)) FROM history.licences;

CREATE INDEX users_known_days ON history.users USING gist (history.known_days(valid_from, valid_to));
CREATE INDEX crm_contracts_known_days ON history.crm_contracts USING gist (history.known_days(valid_from, valid_to));
CREATE INDEX licences_known_days ON history.licences USING gist (history.known_days(valid_from, valid_to));
CREATE INDEX crm_accounts_known_days ON history.crm_accounts USING gist (history.known_days(valid_from, valid_to));

ANALYZE history.users, history.crm_contracts, history.licences, history.crm_accounts;
