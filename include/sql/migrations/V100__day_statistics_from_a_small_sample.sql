-- The day-keyed marts are analysed after every day written, on the columns
-- their readers select by (the day, and the versions a row was scored
-- under): a new day missing from the statistics is taken for one row and
-- joined by nested loops. ANALYZE samples 300 x the largest statistics
-- target of the columns it analyses: with the default (100) that is 30,000
-- rows, read from pages all over a table that grows by a day each day
-- (1.0-1.5 s a day at 20,000 accounts x 365 days of KPIs, and again for the
-- scores: the KPI step was not flat in history, issue 14). A target of 10
-- samples 3,000 rows (70 ms there), enough for these few distinct values
-- (a day is 1/365 of the rows, a version one of a handful). Their account
-- columns are analysed whole only when a tenth of the table changed
-- (customer_health.warehouse.statistics).
ALTER TABLE marts.account_daily_kpis ALTER COLUMN day SET STATISTICS 10;
ALTER TABLE marts.health_scores ALTER COLUMN day SET STATISTICS 10,
                                ALTER COLUMN config_version SET STATISTICS 10;
ALTER TABLE marts.account_quadrants ALTER COLUMN day SET STATISTICS 10,
                                    ALTER COLUMN health_version SET STATISTICS 10,
                                    ALTER COLUMN cmi_version SET STATISTICS 10;
