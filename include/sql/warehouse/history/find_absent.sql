-- Keys in staging that a complete snapshot no longer has: deleted at the
-- source. Only rows this source wrote: another source feeding the same stream
-- speaks for its own. Every line of the batch counts as present, quarantined
-- ones too (a row with one bad value still exists at the source). Also counts
-- the source's rows, for the share a snapshot may delete at once.
CREATE TEMP TABLE _absent ON COMMIT DROP AS
SELECT {staging_keys}
FROM {staging} AS s
WHERE s._source = %(source)s
  AND NOT EXISTS (SELECT 1 FROM _candidates AS c WHERE {key_match});
ANALYZE _absent;
SELECT (SELECT count(*) FROM _absent) AS absent, (SELECT count(*) FROM {staging} AS s WHERE s._source = %(source)s) AS staging_rows
