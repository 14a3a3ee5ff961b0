-- Settle one table a full KPI rebuild rewrote, after the rebuild's commit
-- (VACUUM cannot run inside a transaction): commit hint bits and the
-- visibility map set once here, and fresh statistics, instead of by the first
-- daily statements that read the rows (customer_health.kpis.settle_rebuilt_tables).
VACUUM (ANALYZE) {table};
