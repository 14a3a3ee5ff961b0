-- A key longer than an index entry can hold (about 2,700 bytes) would fail
-- the whole batch at the merge ("index row size exceeds maximum"): the row is
-- quarantined instead. Keys of real records are far shorter than the limit.
UPDATE _candidates AS c
SET _reasons = c._reasons || format('oversized key: %%s bytes, the limit is %%s', octet_length({key_text}), %(max_key_bytes)s::int)
WHERE cardinality(c._reasons) = 0 AND octet_length({key_text}) > %(max_key_bytes)s::int
