-- The newest change the batch holds, read in the same snapshot as the rows,
-- so the stored cursor never skips or repeats a change. Compared as bytes
-- (COLLATE "C"): cursors are text that sorts in change order. A time cursor
-- beyond now + the future tolerance (%(cursor_limit)s, ISO 8601 like the
-- cursors) does not count: one row stamped 2031 must not make every later
-- run skip the present (the loader quarantines that row).
SELECT max(q._cursor::text COLLATE "C")
           FILTER (WHERE %(cursor_limit)s::text IS NULL OR q._cursor::text COLLATE "C" <= %(cursor_limit)s::text)
           AS batch_cursor
FROM ({query}) AS q
