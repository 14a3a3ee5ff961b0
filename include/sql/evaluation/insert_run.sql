-- One evaluation run; returns its id for the detail rows.
INSERT INTO marts.evaluation_runs
    (config_version, horizon_days, first_reference, last_reference, reference_every_days,
     rows_evaluated, accounts, churned_rows, auc, auc_low, auc_high, verdict, settings)
VALUES (%(config_version)s, %(horizon_days)s, %(first_reference)s, %(last_reference)s, %(reference_every_days)s,
        %(rows_evaluated)s, %(accounts)s, %(churned_rows)s, %(auc)s, %(auc_low)s, %(auc_high)s, %(verdict)s,
        %(settings)s)
RETURNING run_id;
