-- One recorded config version. Parameters: kind, version.
SELECT kind, version, parts, source_yaml, registered_at
FROM meta.config_versions
WHERE kind = %(kind)s AND version = %(version)s
