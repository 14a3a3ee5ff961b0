-- What the batch did, for operators and the quality gate (which reads finished_at
-- to tell a stopped feed from a quiet one).
UPDATE meta.load_batches
SET finished_at = clock_timestamp(), cursor_to = %(cursor_to)s,
    rows_received = %(rows_received)s, rows_inserted = %(rows_inserted)s,
    rows_updated = %(rows_updated)s, rows_unchanged = %(rows_unchanged)s,
    rows_quarantined = %(rows_quarantined)s, load_path = %(path)s,
    complete = %(complete)s, rows_deleted = %(rows_deleted)s, rows_deletion_withheld = %(rows_deletion_withheld)s
WHERE batch_id = %(batch_id)s
