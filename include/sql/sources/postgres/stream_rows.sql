-- The stream's canonical columns, in contract order, from the data engineer's
-- extract query, tagged with the source and batch the spool format carries.
-- Selecting by name means the extract query may select more, in any order.
SELECT %(source)s AS _source, %(batch_id)s AS _batch_id, {columns}
FROM ({query}) AS q
