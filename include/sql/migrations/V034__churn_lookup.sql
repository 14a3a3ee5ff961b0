-- One definition of "churned within a horizon" for every reader of outcomes
-- (the evaluation cohort, the fitting cohort, the play effects), instead of
-- the same lateral subquery in each file.

CREATE FUNCTION marts.first_churn_after(p_account_id text, p_day date, p_within_days int) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT min(o.outcome_date)
    FROM marts.account_outcomes AS o
    WHERE o.account_id = p_account_id AND o.outcome = 'churned'
      AND o.outcome_date > p_day AND o.outcome_date <= p_day + p_within_days
$$;
COMMENT ON FUNCTION marts.first_churn_after(text, date, int) IS
    'The first churn of an account in (day, day + within_days], or NULL: the label of an evaluation row.';

CREATE FUNCTION marts.churned_by(p_account_id text, p_day date) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (
        SELECT 1 FROM marts.account_outcomes AS o
        WHERE o.account_id = p_account_id AND o.outcome = 'churned' AND o.outcome_date <= p_day)
$$;
COMMENT ON FUNCTION marts.churned_by(text, date) IS
    'The account had churned on or before the day: it is no longer in a cohort of that day.';
