-- Every rollup-reading custom KPI of the target days in ONE pass: the rollups
-- grouped by account and day with one FILTERed measure per KPI, the target rows
-- (measure 0 / NULL) added, then per KPI a window over the same ordering
-- (Postgres sorts once for all of them): sums over RANGE frames of dates for
-- the windowed kinds (days without events need no row, nothing fans out), a
-- running max / min of the matching days for days_since (peers included, so a
-- same-day event is 0 days). Rows come out one per target row.
SELECT *
FROM (
    SELECT account_id, day, is_target{windows}
    FROM (
        SELECT account_id, day, false AS is_target{measures}
        FROM intermediate.account_day_events
        WHERE day BETWEEN {since} AND %(end)s::date AND ({any_filter})
        GROUP BY account_id, day
        UNION ALL
        SELECT account_id, day, true{zeros} FROM target
    ) AS s
) AS w
WHERE is_target
