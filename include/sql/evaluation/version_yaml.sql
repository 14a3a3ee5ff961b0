-- The scorecard file a version was registered from: scoring a past day under that version uses it,
-- never the YAML on disk (which may have changed since). Parameters: config_version.
SELECT v.source_yaml FROM meta.scorecard_versions AS v WHERE v.config_version = %(config_version)s;
