-- Rows of a landing table: what the batch received.
SELECT count(*) AS row_count FROM {table}
