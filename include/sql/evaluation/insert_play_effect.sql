INSERT INTO marts.evaluation_play_effects
    (run_id, play, after_days, treated, held_out, treated_churn_rate, held_out_churn_rate, churn_difference,
     churn_difference_low, churn_difference_high, treated_score_change, held_out_score_change, score_difference,
     score_difference_low, score_difference_high, verdict)
VALUES (%(run_id)s, %(play)s, %(after_days)s, %(treated)s, %(held_out)s, %(treated_churn_rate)s,
        %(held_out_churn_rate)s, %(churn_difference)s, %(churn_difference_low)s, %(churn_difference_high)s,
        %(treated_score_change)s, %(held_out_score_change)s, %(score_difference)s, %(score_difference_low)s,
        %(score_difference_high)s, %(verdict)s);
