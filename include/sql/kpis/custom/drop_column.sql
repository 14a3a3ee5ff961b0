-- A custom KPI removed from kpis.yml: its column goes (metadata only), so the
-- mart holds what the declarations say. Scores already made keep their values
-- in marts.health_score_components.
ALTER TABLE marts.account_daily_kpis DROP COLUMN IF EXISTS {column}
