-- One survey's answers (staging.survey_responses, the survey a bind parameter)
-- for each target day, as the standard statement reads nps_latest and
-- csat_avg_90d: answers submitted by the end of the day (UTC). Per account the
-- answer days and the target rows in one ordering: a running max gives the
-- latest answer day on or before each target day (its last answer is joined
-- back: latest, ties by response_id), a RANGE frame of the window's days the
-- sum and number of answers for the average. Survey answers are few: all of
-- the survey's are read, as the standard statement does.
WITH answer_days AS (
    SELECT account_id, day, sum(answer) AS answer_sum, count(*) AS answers,
           (array_agg(answer ORDER BY submitted_at DESC, response_id DESC))[1] AS last_answer
    FROM (SELECT s.account_id, (s.submitted_at AT TIME ZONE 'UTC')::date AS day, s.answer, s.submitted_at,
                 s.response_id
          FROM staging.survey_responses AS s
          WHERE s.survey = {survey}::text
            AND s.submitted_at < (%(end)s::date + 1)::timestamp AT TIME ZONE 'UTC') AS s
    GROUP BY account_id, day
)
SELECT w.account_id, w.day, a.last_answer::double precision AS latest,
       (w.day - w.latest_day)::double precision AS age_days,
       (w.window_sum / nullif(w.window_answers, 0))::double precision AS average
FROM (
    SELECT account_id, day, is_target,
           max(answer_day) OVER (PARTITION BY account_id ORDER BY day) AS latest_day,
           sum(answer_sum) OVER recent AS window_sum,
           sum(answers) OVER recent AS window_answers
    FROM (
        SELECT account_id, day, false AS is_target, day AS answer_day, answer_sum, answers FROM answer_days
        UNION ALL
        SELECT account_id, day, true, NULL::date, 0, 0 FROM target
    ) AS s
    WINDOW recent AS (PARTITION BY account_id ORDER BY day RANGE BETWEEN {preceding}::interval PRECEDING AND CURRENT ROW)
) AS w
LEFT JOIN answer_days AS a ON a.account_id = w.account_id AND a.day = w.latest_day
WHERE w.is_target
