-- Copies of one key in one batch that disagree are all quarantined, since
-- nothing says which one is right (identical copies collapse in the merge).
UPDATE _candidates AS c
SET _reasons = c._reasons || format('duplicate key in this batch with different content: %%s', {key_text})
WHERE ({keys}) IN (SELECT {keys} FROM _repeated_keys WHERE conflicting)
  AND cardinality(c._reasons) = 0
