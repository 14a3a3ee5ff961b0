-- What was applied, with the checksum of the file as it was: an applied file
-- that changed since is refused (migrations are append-only).
SELECT version, checksum FROM meta.schema_migrations ORDER BY version
