-- How many accounts marts.accounts holds today, for the build step's log line.
SELECT count(*) AS current FROM marts.accounts_current;
