-- One migration applied, in the same transaction as its own statements.
INSERT INTO meta.schema_migrations (version, name, checksum)
VALUES (%(version)s, %(name)s, %(checksum)s)
