-- A batch id is reserved before extracting, so the spool file can carry it in
-- every row; the sequence hands out each id once even if the load then fails.
SELECT nextval('meta.load_batches_batch_id_seq') AS batch_id
