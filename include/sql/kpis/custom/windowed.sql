-- One windowed custom KPI (count, sum, distinct days) on the target days: the
-- per-day measure of the matching events, summed over the window ending on
-- each target day (and the window before it, for a change) by RANGE frames
-- over dates, so days without events need no grid row and nothing fans out.
-- The target rows carry 0, so an account without matching events gets 0.
SELECT account_id, day, v, prev
FROM (
    SELECT account_id, day, is_target,
           sum(x) OVER (PARTITION BY account_id ORDER BY day
                        RANGE BETWEEN {window_back}::interval PRECEDING AND CURRENT ROW) AS v,
           sum(x) OVER (PARTITION BY account_id ORDER BY day
                        RANGE BETWEEN {previous_back}::interval PRECEDING AND {window}::interval PRECEDING) AS prev
    FROM (
        SELECT account_id, day, ({measure})::numeric AS x, false AS is_target
        FROM intermediate.account_day_events
        WHERE day BETWEEN %(start)s::date - {reach} AND %(end)s::date AND {filter}
        GROUP BY account_id, day
        UNION ALL
        SELECT account_id, day, 0, true FROM target
    ) AS s
) AS w
WHERE is_target
