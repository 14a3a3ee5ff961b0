-- The batch is recorded first, inside the load's transaction: a load that
-- fails leaves no row, one that commits leaves exactly one.
INSERT INTO meta.load_batches (batch_id, source, stream, run_id, cursor_from)
VALUES (%(batch_id)s, %(source)s, %(stream)s, %(run_id)s, %(cursor_from)s)
