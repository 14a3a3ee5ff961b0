-- A scorecard file is stored once per content hash: registering the same file
-- again (every daily run does) changes nothing, and the caller learns from the
-- row count whether this version is new and its scorecards must be written.
INSERT INTO meta.scorecard_versions (config_version, source_yaml, rollup_method, red_below, green_from)
VALUES (%(version)s, %(source_yaml)s, %(rollup_method)s, %(red_below)s, %(green_from)s)
ON CONFLICT (config_version) DO NOTHING
