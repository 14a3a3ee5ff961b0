-- Distinct users or features (event names) with events of a filter in the
-- window days ending on each target day, from a per-day rollup (never the
-- events). Each key's active day a counts it on the days [a, next active day)
-- but at most `window` of them: +1 on a, -1 on least(a + window, next). Those
-- spans of one key do not overlap, so the keys counted on a day are the
-- running sum of the +1 / -1 up to it. Only the rollups from `since` (window - 1
-- days before the first target day) are read: a span starting earlier has ended
-- by then, one starting from `since` on is counted whole.
WITH active AS (
    SELECT account_id, day, lead(day) OVER (PARTITION BY account_id, key ORDER BY day) AS next_day
    FROM (SELECT DISTINCT account_id, {key} AS key, day
          FROM {rollup}
          WHERE day BETWEEN {since} AND %(end)s::date AND ({filter})) AS k
),
steps AS (
    SELECT account_id, day, count(*) AS step FROM active GROUP BY account_id, day
    UNION ALL
    SELECT account_id, least(day + {window}, next_day), -count(*)
    FROM active
    WHERE least(day + {window}, next_day) <= %(end)s::date
    GROUP BY account_id, least(day + {window}, next_day)
)
SELECT account_id, day, v::double precision AS v
FROM (
    SELECT account_id, day, is_target, sum(step) OVER (PARTITION BY account_id ORDER BY day) AS v
    FROM (SELECT account_id, day, false AS is_target, step FROM steps
          UNION ALL
          SELECT account_id, day, true, 0 FROM target) AS s
) AS w
WHERE is_target
