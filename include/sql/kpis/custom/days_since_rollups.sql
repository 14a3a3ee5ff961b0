-- One days_since KPI on the target days from the rollups (ranges, and a day
-- before the state's): the last (max) or first (min) matching day on or
-- before each target day, over the account's rows in day order (peers
-- included, so a same-day event counts as 0 days).
SELECT account_id, day, (day - hit)::double precision AS v
FROM (
    SELECT account_id, day, is_target, {pick}(hit) OVER (PARTITION BY account_id ORDER BY day) AS hit
    FROM (
        SELECT account_id, day, day AS hit, false AS is_target
        FROM intermediate.account_day_events
        WHERE day <= %(end)s::date AND {filter}
        GROUP BY account_id, day
        UNION ALL
        SELECT account_id, day, NULL::date, true FROM target
    ) AS s
) AS w
WHERE is_target
