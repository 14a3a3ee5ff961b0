-- Cast one batch of raw survey answers (one row per response and question) to canonical types.
-- MATERIALIZED: each value is cast once, not again where the checks below read it.
WITH typed AS MATERIALIZED (
    SELECT r._line,
           NULLIF(r.response_id, '')     AS response_id,
           NULLIF(r.account_id, '')      AS account_id,
           NULLIF(r.respondent, '')      AS respondent,
           lower(NULLIF(r.survey, ''))   AS survey,
           NULLIF(r.question_id, '')     AS question_id,
           r.answer                      AS answer_raw,
           util.try_numeric(r.answer)    AS answer,
           r.submitted_at                AS submitted_raw,
           util.try_timestamptz(r.submitted_at) AS submitted_at
    FROM {landing} AS r
    WHERE r._batch_id = %(batch_id)s
)
SELECT _line, response_id, account_id, respondent, survey, question_id, answer, submitted_at,
       array_remove(ARRAY[
           util.missing('response_id', response_id),
           util.missing('account_id', account_id),
           util.missing('question_id', question_id),
           CASE WHEN survey IS NULL OR survey NOT IN ('nps', 'csat', 'cmi')
                THEN format('survey must be nps, csat or cmi, got %%s', quote_nullable(survey)) END,
           util.missing('answer', answer_raw),
           util.bad_value('answer', answer_raw, answer),
           CASE WHEN survey = 'nps' AND answer NOT BETWEEN 0 AND 10 THEN format('NPS answer must be 0-10, got %%s', answer)
                WHEN survey IN ('csat', 'cmi') AND answer NOT BETWEEN 1 AND 5 THEN format('%%s answer must be 1-5, got %%s', upper(survey), answer) END,
           util.missing('submitted_at', submitted_raw),
           util.bad_value('submitted_at', submitted_raw, submitted_at)
       ], NULL) AS _reasons
FROM typed
