-- Whether the per-event rollup has nothing yet (the first build after kpis.yml
-- gained custom KPIs, on a warehouse whose standard rollups already exist).
SELECT NOT EXISTS (SELECT 1 FROM intermediate.account_day_events) AS empty
