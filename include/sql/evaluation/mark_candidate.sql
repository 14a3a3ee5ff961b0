-- A version registered by a backtest is a candidate, unless the daily run already made it live.
-- Parameters: config_version, was_new (the backtest registered it just now).
UPDATE meta.scorecard_versions SET role = 'candidate'
WHERE config_version = %(config_version)s AND %(was_new)s::boolean;
