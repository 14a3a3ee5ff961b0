-- A declared custom KPI's column: metadata only (no default, no table rewrite).
ALTER TABLE marts.account_daily_kpis ADD COLUMN IF NOT EXISTS {column} double precision
