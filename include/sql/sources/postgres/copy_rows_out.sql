-- Rows leave the product database as CSV straight into the spool file: no
-- Python per row.
COPY ({rows}) TO STDOUT (FORMAT csv, HEADER true)
