-- How many churns the outcomes hold, for the log line of an evaluation.
SELECT count(*) AS churns FROM marts.account_outcomes AS o WHERE o.outcome = 'churned';
