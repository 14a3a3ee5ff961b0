INSERT INTO marts.evaluation_bins
    (run_id, scope, bin_kind, bin, position, rows_in_bin, churned_rows, churn_rate, churn_rate_low, churn_rate_high,
     mean_score, arr, churned_arr)
VALUES (%(run_id)s, %(scope)s, %(bin_kind)s, %(bin)s, %(position)s, %(rows_in_bin)s, %(churned_rows)s, %(churn_rate)s,
        %(churn_rate_low)s, %(churn_rate_high)s, %(mean_score)s, %(arr)s, %(churned_arr)s);
