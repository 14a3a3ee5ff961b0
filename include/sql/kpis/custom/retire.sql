-- A custom KPI no longer declared: kept as a record, marked retired.
UPDATE meta.kpi_definitions
SET retired_at = now(), built_from = NULL, built_through = NULL
WHERE name = %(name)s
