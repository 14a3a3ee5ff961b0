INSERT INTO marts.evaluation_comparisons
    (horizon_days, candidate_version, live_version, candidate_run_id, live_run_id, rows_compared, churned_rows,
     candidate_auc, live_auc, auc_difference, difference_low, difference_high, verdict)
VALUES (%(horizon_days)s, %(candidate_version)s, %(live_version)s, %(candidate_run_id)s, %(live_run_id)s,
        %(rows_compared)s, %(churned_rows)s, %(candidate_auc)s, %(live_auc)s, %(auc_difference)s,
        %(difference_low)s, %(difference_high)s, %(verdict)s)
RETURNING comparison_id;
