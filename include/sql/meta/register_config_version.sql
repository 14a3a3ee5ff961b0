-- Record one config version (once per content hash: the first registration is kept).
-- Parameters: kind, version, parts (jsonb), source_yaml.
INSERT INTO meta.config_versions (kind, version, parts, source_yaml)
VALUES (%(kind)s, %(version)s, %(parts)s::jsonb, %(source_yaml)s)
ON CONFLICT (kind, version) DO NOTHING
