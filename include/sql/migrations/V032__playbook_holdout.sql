-- A control group per play: a deterministic share of the accounts a play fires
-- for get their task recorded but never delivered (no channels), so the
-- evaluation can compare what happened to treated and held-out accounts.

ALTER TABLE marts.csm_tasks ADD COLUMN held_out boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN marts.csm_tasks.held_out IS
    'The play fired for this account but the account is in the play''s holdout share (playbooks.yml holdout): the '
    'task is recorded with no channels, so nobody is asked to act. The control group of evaluation_play_effects.';

CREATE TABLE marts.evaluation_play_effects (
    run_id          bigint NOT NULL REFERENCES marts.evaluation_runs ON DELETE CASCADE,
    play            text NOT NULL,
    after_days      int  NOT NULL,
    treated         int  NOT NULL,
    held_out        int  NOT NULL,
    treated_churn_rate  numeric,
    held_out_churn_rate numeric,
    churn_difference      numeric,
    churn_difference_low  numeric,
    churn_difference_high numeric,
    treated_score_change  numeric,
    held_out_score_change numeric,
    score_difference      numeric,
    score_difference_low  numeric,
    score_difference_high numeric,
    verdict         text NOT NULL,
    PRIMARY KEY (run_id, play)
);
COMMENT ON TABLE marts.evaluation_play_effects IS
    'What each play did: accounts whose task was delivered (treated) against the play''s held-out accounts, '
    'churn and score change after_days later, differences with 95 % bootstrap intervals over accounts.';
COMMENT ON COLUMN marts.evaluation_play_effects.churn_difference IS 'Treated churn rate minus held-out churn rate (negative = the play helped).';
COMMENT ON COLUMN marts.evaluation_play_effects.score_difference IS 'Treated mean score change minus held-out mean score change (positive = the play helped).';
COMMENT ON COLUMN marts.evaluation_play_effects.verdict IS 'In words; "too few to tell" below the minimum group size.';
