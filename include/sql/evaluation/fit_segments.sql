-- Which scorecard of a scorecards file each account-day of the fitting cohort falls in, by the
-- same rule the scoring uses (first scorecard in file order whose every segment condition holds,
-- tested by util.condition_holds), so fit-scorecard --segment fits exactly the rows that
-- scorecard would score. The file need not be registered: its scorecards and conditions come as
-- JSON. Parameters: reference_dates (date[]), scorecards (jsonb: [{scorecard, position}]),
-- conditions (jsonb: [{scorecard, field, op, vals: [text]}]).
WITH cards AS (
    SELECT c ->> 'scorecard' AS scorecard, (c ->> 'position')::int AS position
    FROM jsonb_array_elements(%(scorecards)s::jsonb) AS c
),
conditions AS (
    SELECT c ->> 'scorecard' AS scorecard, c ->> 'field' AS field, c ->> 'op' AS op,
           ARRAY(SELECT jsonb_array_elements_text(c -> 'vals')) AS vals
    FROM jsonb_array_elements(%(conditions)s::jsonb) AS c
),
rows AS (
    SELECT k.account_id, k.day, to_jsonb(k) AS kv
    FROM marts.account_daily_kpis AS k
    WHERE k.day = ANY (%(reference_dates)s::date[])
)
SELECT DISTINCT ON (r.account_id, r.day) r.account_id, r.day, s.scorecard
FROM rows AS r
CROSS JOIN cards AS s
WHERE NOT EXISTS (
    SELECT 1 FROM conditions AS c
    WHERE c.scorecard = s.scorecard
      AND NOT util.condition_holds(
          c.op, c.vals, r.kv ->> c.field,
          CASE WHEN jsonb_typeof(r.kv -> c.field) = 'number' THEN (r.kv ->> c.field)::numeric END))
ORDER BY r.account_id, r.day, s.position;
