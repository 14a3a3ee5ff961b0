-- Usage events on the day against the average of the same weekday in the four
-- weeks before, read from the per-day rollups the KPI build wrote just before
-- the gate (intermediate.account_day_activity, one row per account and day):
-- five days of rollups, whatever the history, never the events themselves.
-- Parameters: day.
SELECT coalesce(sum(a.events) FILTER (WHERE a.day = %(day)s::date), 0) AS rows_on_day,
       coalesce(sum(a.events) FILTER (WHERE a.day < %(day)s::date), 0) / 4.0 AS rows_trailing_avg
FROM intermediate.account_day_activity AS a
WHERE a.day BETWEEN %(day)s::date - 28 AND %(day)s::date
  AND (%(day)s::date - a.day) %% 7 = 0
