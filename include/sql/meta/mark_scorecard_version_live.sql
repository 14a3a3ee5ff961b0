-- The daily run registered this version from include/config: it is live, even if a backtest
-- registered the same content earlier as a candidate. Parameters: config_version.
UPDATE meta.scorecard_versions SET role = 'live' WHERE config_version = %(config_version)s AND role <> 'live';
