-- Which of the given tables changed enough since their last ANALYZE that the
-- next statement's plan could change: rows written since (by earlier
-- transactions, pg_stat_user_tables, and by this one so far,
-- pg_stat_xact_user_tables) above a tenth of the rows the statistics know,
-- like autovacuum's analyze scale factor (autovacuum is off here; no base
-- threshold: a small table costs nothing to analyse). A table never
-- analysed (reltuples -1) always counts. One new day adds a small part of the
-- rollups (1/180 at 180 days of history), so the daily build re-analyses them
-- every few weeks instead of every day (1 s at 20,000 accounts / 10M events,
-- issue 14); a rebuild rewrites them whole and always does (and, as Postgres
-- counts a transaction's writes at its commit after its own ANALYZE, the
-- daily build after it once more). The day-keyed marts (KPIs, scores,
-- quadrants) take the same rule for their whole statistics, next to a small
-- sample of their day columns every day (migration V100).
-- Parameters: tables (regclass names).
SELECT n.nspname AS schema_name, c.relname AS table_name
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables AS s ON s.relid = c.oid
LEFT JOIN pg_stat_xact_user_tables AS x ON x.relid = c.oid
WHERE c.oid = ANY (%(tables)s::regclass[])
  AND (c.reltuples < 0
       OR coalesce(s.n_mod_since_analyze, 0) + coalesce(x.n_tup_ins + x.n_tup_upd + x.n_tup_del, 0)
          > 0.1 * c.reltuples)
ORDER BY 1, 2;
