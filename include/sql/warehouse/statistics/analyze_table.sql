-- Statistics of one table a step wrote and reads next, whole (chosen by
-- warehouse/statistics/tables_changed_a_lot.sql), inside the step's transaction.
ANALYZE {table};
