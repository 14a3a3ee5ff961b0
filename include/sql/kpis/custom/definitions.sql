-- The custom KPI columns the mart has, and what each holds.
SELECT name, definition_hash, retired_at FROM meta.kpi_definitions
