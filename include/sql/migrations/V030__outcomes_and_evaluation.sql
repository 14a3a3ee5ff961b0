-- Check in PDCA: what happened to each account (outcomes) and how well a
-- scorecard version foresaw it (evaluation runs, their figures, bins and
-- diagnostics). Every figure that judges a score is stored with its 95 %
-- interval and the counts it rests on.

CREATE TABLE marts.account_outcomes (
    account_id    text    NOT NULL,
    outcome       text    NOT NULL CHECK (outcome IN ('churned', 'renewed', 'expanded', 'contracted')),
    outcome_date  date    NOT NULL,
    known_on      date    NOT NULL,
    arr_before    numeric,
    arr_after     numeric,
    contract_id   text,
    evidence      text    NOT NULL,
    built_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, outcome_date, outcome)
);
CREATE INDEX account_outcomes_churn ON marts.account_outcomes (account_id, outcome_date) WHERE outcome = 'churned';
COMMENT ON TABLE marts.account_outcomes IS
    'What happened to each account at the end of each contract term: derived from staging.crm_contracts '
    '(rebuilt whole by the evaluation). Read by the evaluation; one row per account, date and outcome.';
COMMENT ON COLUMN marts.account_outcomes.account_id IS 'CRM account id.';
COMMENT ON COLUMN marts.account_outcomes.outcome IS
    'churned: the last contract ended and no successor started within the grace days; renewed / expanded / '
    'contracted: a successor started, with ARR within / above / below the configured change of the ended one.';
COMMENT ON COLUMN marts.account_outcomes.outcome_date IS 'The day the ended contract ended (the churn or renewal date).';
COMMENT ON COLUMN marts.account_outcomes.known_on IS
    'First day the outcome could be known: a churn only once the grace days passed without a successor.';
COMMENT ON COLUMN marts.account_outcomes.arr_before IS 'ARR of the contract that ended.';
COMMENT ON COLUMN marts.account_outcomes.arr_after IS 'ARR of the successor contract (NULL for a churn).';
COMMENT ON COLUMN marts.account_outcomes.contract_id IS 'The contract whose end this outcome is.';
COMMENT ON COLUMN marts.account_outcomes.evidence IS 'Where the outcome comes from, in words (contract ids and dates).';

CREATE TABLE marts.evaluation_runs (
    run_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    evaluated_at    timestamptz NOT NULL DEFAULT now(),
    config_version  text NOT NULL,
    horizon_days    int  NOT NULL,
    first_reference date,
    last_reference  date,
    reference_every_days int NOT NULL,
    rows_evaluated  int  NOT NULL,
    accounts        int  NOT NULL,
    churned_rows    int  NOT NULL,
    auc             numeric,
    auc_low         numeric,
    auc_high        numeric,
    verdict         text NOT NULL,
    settings        jsonb NOT NULL
);
COMMENT ON TABLE marts.evaluation_runs IS
    'One evaluation of one scorecard version at one horizon: the cohort, the headline ROC AUC with its 95 % '
    'interval and the verdict in words. Details in evaluation_metrics, _bins and _diagnostics.';
COMMENT ON COLUMN marts.evaluation_runs.config_version IS 'Scorecard version whose stored scores were judged.';
COMMENT ON COLUMN marts.evaluation_runs.horizon_days IS 'A row is labelled churned when the account churned within this many days after its reference date.';
COMMENT ON COLUMN marts.evaluation_runs.first_reference IS 'First reference date of the cohort (every account active that day is a row).';
COMMENT ON COLUMN marts.evaluation_runs.last_reference IS 'Last reference date whose horizon (plus grace) is fully observed.';
COMMENT ON COLUMN marts.evaluation_runs.reference_every_days IS 'Days between reference dates.';
COMMENT ON COLUMN marts.evaluation_runs.rows_evaluated IS 'Account x reference-date rows with a stored score.';
COMMENT ON COLUMN marts.evaluation_runs.accounts IS 'Distinct accounts among those rows.';
COMMENT ON COLUMN marts.evaluation_runs.churned_rows IS 'Rows whose account churned within the horizon.';
COMMENT ON COLUMN marts.evaluation_runs.auc IS
    'ROC AUC of the score for churn (lower score = more risk), comparing accounts only within the same reference '
    'date so calendar drift cannot fake signal. 0.5 = no better than chance.';
COMMENT ON COLUMN marts.evaluation_runs.auc_low IS '2.5th percentile of the AUC over bootstrap resamples of accounts.';
COMMENT ON COLUMN marts.evaluation_runs.auc_high IS '97.5th percentile of the AUC over bootstrap resamples of accounts.';
COMMENT ON COLUMN marts.evaluation_runs.verdict IS 'The result in plain words; "no significant signal" whenever the interval includes 0.5.';
COMMENT ON COLUMN marts.evaluation_runs.settings IS 'Evaluation settings used (evaluation.yml), for reproducing the run.';

CREATE TABLE marts.evaluation_metrics (
    run_id       bigint NOT NULL REFERENCES marts.evaluation_runs ON DELETE CASCADE,
    subject_kind text NOT NULL CHECK (subject_kind IN ('score', 'measure', 'kpi', 'quadrant')),
    subject      text NOT NULL,
    scope        text NOT NULL,
    metric       text NOT NULL,
    value        numeric,
    ci_low       numeric,
    ci_high      numeric,
    rows_used    int NOT NULL,
    churned_rows int NOT NULL,
    signal       text NOT NULL,
    PRIMARY KEY (run_id, subject_kind, subject, scope, metric)
);
COMMENT ON TABLE marts.evaluation_metrics IS
    'Every figure of an evaluation with its 95 % bootstrap interval: for the score, each measure, each KPI and the quadrants; '
    'overall (scope all), per scorecard (scope scorecard:<name>) and among accounts whose renewal falls within the horizon (scope renewing_within_horizon).';
COMMENT ON COLUMN marts.evaluation_metrics.subject_kind IS 'score (the health score), measure (a scorecard measure''s 0-100 score), kpi (a raw KPI), quadrant.';
COMMENT ON COLUMN marts.evaluation_metrics.subject IS 'Name of the score, measure or KPI.';
COMMENT ON COLUMN marts.evaluation_metrics.scope IS 'all; scorecard:<name> for the rows scored by one scorecard; renewing_within_horizon for rows whose renewal is within the horizon (churn can only happen there).';
COMMENT ON COLUMN marts.evaluation_metrics.metric IS
    'roc_auc (lower = riskier, within reference dates), pr_auc, top_decile_lift (tie-neutral), red_precision, red_recall, churn_rate.';
COMMENT ON COLUMN marts.evaluation_metrics.value IS 'The figure.';
COMMENT ON COLUMN marts.evaluation_metrics.ci_low IS 'Lower end of its 95 % interval (bootstrap over accounts).';
COMMENT ON COLUMN marts.evaluation_metrics.ci_high IS 'Upper end of its 95 % interval.';
COMMENT ON COLUMN marts.evaluation_metrics.rows_used IS 'Rows the figure rests on (rows with a value).';
COMMENT ON COLUMN marts.evaluation_metrics.churned_rows IS 'Churned rows among them.';
COMMENT ON COLUMN marts.evaluation_metrics.signal IS
    'For roc_auc: of a KPI or measure, lower is riskier / higher is riskier; of the score, foresees churn / points the wrong way; '
    'or no significant signal (interval includes 0.5) / too few to tell.';

CREATE TABLE marts.evaluation_bins (
    run_id       bigint NOT NULL REFERENCES marts.evaluation_runs ON DELETE CASCADE,
    scope        text NOT NULL,
    bin_kind     text NOT NULL CHECK (bin_kind IN ('band', 'decile', 'quadrant')),
    bin          text NOT NULL,
    position     int  NOT NULL,
    rows_in_bin  int  NOT NULL,
    churned_rows int  NOT NULL,
    churn_rate   numeric,
    churn_rate_low  numeric,
    churn_rate_high numeric,
    mean_score   numeric,
    arr          numeric,
    churned_arr  numeric,
    PRIMARY KEY (run_id, scope, bin_kind, bin)
);
COMMENT ON TABLE marts.evaluation_bins IS
    'Churn by band, by score decile (deciles taken within each reference date; 1 = lowest scores) and by quadrant: '
    'the calibration view. A useful score has churn falling steadily as the decile rises.';
COMMENT ON COLUMN marts.evaluation_bins.position IS 'Sort order of the bins (red before yellow before green; decile 1 first).';
COMMENT ON COLUMN marts.evaluation_bins.churn_rate IS 'Churned rows / rows in the bin.';
COMMENT ON COLUMN marts.evaluation_bins.churn_rate_low IS 'Lower end of the 95 % Wilson interval of the churn rate.';
COMMENT ON COLUMN marts.evaluation_bins.churn_rate_high IS 'Upper end of the 95 % Wilson interval of the churn rate.';
COMMENT ON COLUMN marts.evaluation_bins.mean_score IS 'Mean health score of the rows in the bin.';
COMMENT ON COLUMN marts.evaluation_bins.arr IS 'ARR of the rows in the bin (as of their reference dates).';
COMMENT ON COLUMN marts.evaluation_bins.churned_arr IS 'ARR of the churned rows in the bin.';

CREATE TABLE marts.evaluation_diagnostics (
    run_id     bigint NOT NULL REFERENCES marts.evaluation_runs ON DELETE CASCADE,
    kind       text NOT NULL,
    subject    text NOT NULL,
    scope      text NOT NULL,
    detail     text NOT NULL,
    PRIMARY KEY (run_id, kind, subject, scope)
);
COMMENT ON TABLE marts.evaluation_diagnostics IS
    'What a CS-ops person can act on: measures constant across accounts, measures saturated for most accounts, '
    'configured event names that never occur, empty bands, KPIs with signal that the scorecard does not use.';
COMMENT ON COLUMN marts.evaluation_diagnostics.kind IS 'constant_measure, saturated_measure, unused_event_name, empty_band, unused_kpi_with_signal.';
COMMENT ON COLUMN marts.evaluation_diagnostics.detail IS 'The finding in words, with its numbers.';
