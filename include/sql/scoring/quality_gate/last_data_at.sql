-- The newest row of an event stream up to the end of the scored day, by the
-- data's own time (not when it was loaded): a load that ran today but carries
-- nothing newer than two years ago is not fresh. One probe down the stream's
-- event-time index. has_rows tells an empty stream (nothing to judge by) from
-- one whose data all lies after the day. Composed with the stream's staging
-- table and its event-time column.
SELECT (SELECT max({event_time}) FROM {table} WHERE {event_time} < %(end)s) AS last_data_at,
       EXISTS (SELECT 1 FROM {table}) AS has_rows
