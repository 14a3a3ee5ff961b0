-- Statistics of one table the KPI build wrote and reads next (chosen by
-- kpis/tables_changed_a_lot.sql), inside the build's transaction.
ANALYZE {table};
