-- About how many rows a staging table holds, without counting them: the
-- planner's own estimate, rows per page as last measured times pages now.
-- The bulk path only pays for rebuilding indexes on a batch at least this large.
SELECT CASE WHEN c.reltuples >= 0 AND c.relpages > 0
            THEN c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int)
            ELSE pg_relation_size(c.oid) / 100.0 END AS estimated_rows
FROM pg_class AS c
WHERE c.oid = %(table)s::regclass
