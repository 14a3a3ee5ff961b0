-- The newest change the batch holds, read in the same snapshot as the rows,
-- so the stored cursor never skips or repeats a change. Compared as bytes
-- (COLLATE "C"): cursors are text that sorts in change order.
SELECT max(q._cursor::text COLLATE "C") AS batch_cursor
FROM ({query}) AS q
