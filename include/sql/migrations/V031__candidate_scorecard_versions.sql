-- A backtest scores history under a candidate scorecard file. Its rows sit in
-- the same marts, tagged with the candidate's version, and the version is
-- marked a candidate here so that nothing live (the tasks, the digests, the
-- "latest version" the evaluation judges) ever reads them.

ALTER TABLE meta.scorecard_versions
    ADD COLUMN role text NOT NULL DEFAULT 'live' CHECK (role IN ('live', 'candidate'));
COMMENT ON COLUMN meta.scorecard_versions.role IS
    'live: registered by the daily scoring run from include/config/scorecards.yml; candidate: registered by '
    '`backtest` from another file. A candidate becomes live when the daily run registers the same content.';

CREATE TABLE marts.evaluation_comparisons (
    comparison_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    compared_at       timestamptz NOT NULL DEFAULT now(),
    horizon_days      int  NOT NULL,
    candidate_version text NOT NULL,
    live_version      text NOT NULL,
    candidate_run_id  bigint REFERENCES marts.evaluation_runs ON DELETE SET NULL,
    live_run_id       bigint REFERENCES marts.evaluation_runs ON DELETE SET NULL,
    rows_compared     int  NOT NULL,
    churned_rows      int  NOT NULL,
    candidate_auc     numeric,
    live_auc          numeric,
    auc_difference    numeric,
    difference_low    numeric,
    difference_high   numeric,
    verdict           text NOT NULL
);
COMMENT ON TABLE marts.evaluation_comparisons IS
    'A candidate scorecard against the live one on identical rows (the same accounts and reference dates), '
    'with a paired bootstrap interval of the AUC difference.';
COMMENT ON COLUMN marts.evaluation_comparisons.rows_compared IS 'Account x reference-date rows scored by both versions.';
COMMENT ON COLUMN marts.evaluation_comparisons.auc_difference IS 'Candidate AUC minus live AUC on those rows (within-date AUCs).';
COMMENT ON COLUMN marts.evaluation_comparisons.difference_low IS '2.5th percentile of the difference over paired bootstrap resamples of accounts.';
COMMENT ON COLUMN marts.evaluation_comparisons.difference_high IS '97.5th percentile of the difference.';
COMMENT ON COLUMN marts.evaluation_comparisons.verdict IS 'Better, worse, or no significant difference (the interval includes 0), in words.';
