-- The spool file (CSV with a header) streams into a table with no Python per
-- row. The options and the row filter are composed in by the caller (the bulk
-- path adds FORCE_NULL, re-landing rows without an account adds a WHERE).
COPY {table} ({columns}) FROM STDIN (FORMAT csv, HEADER true{options}){where}
