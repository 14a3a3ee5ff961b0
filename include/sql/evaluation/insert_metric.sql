INSERT INTO marts.evaluation_metrics
    (run_id, subject_kind, subject, scope, metric, value, ci_low, ci_high, rows_used, churned_rows, signal)
VALUES (%(run_id)s, %(subject_kind)s, %(subject)s, %(scope)s, %(metric)s, %(value)s, %(ci_low)s, %(ci_high)s,
        %(rows_used)s, %(churned_rows)s, %(signal)s);
