-- Every CMI assessment scored under one cmi.yml version (a full recompute: assessments are few).
-- Parameters: version, and the model as parallel arrays (question, characteristic, factor, weight).
DELETE FROM marts.cmi_scores WHERE config_version = %(version)s::text;

INSERT INTO marts.cmi_scores
    (assessment_id, config_version, account_id, respondent, assessed_at, cmi, cmi_100,
     characteristics, characteristics_answered, characteristics_total, questions_answered)
WITH model AS (
    SELECT * FROM unnest(%(questions)s::text[], %(characteristic_of)s::text[], %(factor_of)s::text[], %(weight_of)s::numeric[])
        AS m(question_id, characteristic, factor, weight)
),
answers AS (
    SELECT r.response_id, r.account_id, r.respondent, r.submitted_at, m.characteristic, m.factor, m.weight, r.answer
    FROM staging.survey_responses AS r
    JOIN model AS m USING (question_id)
    WHERE r.survey = 'cmi'
),
factor_scores AS (
    SELECT response_id, characteristic, factor, max(weight) AS weight, avg(answer) AS score
    FROM answers GROUP BY response_id, characteristic, factor
),
characteristic_scores AS (
    SELECT response_id, characteristic, max(weight) AS weight, avg(score) AS score
    FROM factor_scores GROUP BY response_id, characteristic
),
assessments AS (
    SELECT response_id, min(account_id) AS account_id, min(respondent) AS respondent,
           min(submitted_at) AS assessed_at, count(*) AS questions_answered
    FROM answers GROUP BY response_id
),
combined AS (
    SELECT response_id,
           sum(score * weight) / sum(weight) AS cmi,
           jsonb_object_agg(characteristic, round(score, 2)) AS characteristics,
           count(*) AS characteristics_answered
    FROM characteristic_scores GROUP BY response_id
)
SELECT a.response_id, %(version)s::text, a.account_id, a.respondent, a.assessed_at,
       round(c.cmi, 3), round((c.cmi - 1) / 4 * 100, 1), c.characteristics, c.characteristics_answered,
       (SELECT count(DISTINCT characteristic) FROM model), a.questions_answered
FROM assessments AS a
JOIN combined AS c USING (response_id);
