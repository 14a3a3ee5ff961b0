-- Keys in staging that a complete snapshot no longer has: deleted at the
-- source. Every line of the batch counts as present, quarantined ones too (a
-- row with one bad value still exists at the source). Also counts staging, for
-- the share a snapshot may delete at once.
CREATE TEMP TABLE _absent ON COMMIT DROP AS
SELECT {staging_keys}
FROM {staging} AS s
WHERE NOT EXISTS (SELECT 1 FROM _candidates AS c WHERE {key_match});
ANALYZE _absent;
SELECT (SELECT count(*) FROM _absent) AS absent, (SELECT count(*) FROM {staging}) AS staging_rows
