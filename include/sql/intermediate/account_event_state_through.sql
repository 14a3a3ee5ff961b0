-- The last day folded into the days_since state (NULL: none yet).
SELECT (SELECT through FROM intermediate.account_event_state_through) AS through
