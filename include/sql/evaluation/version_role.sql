-- Parameters: config_version.
SELECT v.role FROM meta.scorecard_versions AS v WHERE v.config_version = %(config_version)s;
