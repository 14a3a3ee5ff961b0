-- The same key twice in one batch: identical copies collapse in the merge;
-- copies that disagree are all quarantined, since nothing says which one is right.
CREATE TEMP TABLE _repeated_keys ON COMMIT DROP AS
WITH repeated AS (
    SELECT {keys}
    FROM _candidates
    WHERE cardinality(_reasons) = 0
    GROUP BY {keys}
    HAVING count(*) > 1
)
SELECT {keys}, count(DISTINCT {candidate_row}) > 1 AS conflicting
FROM _candidates AS c
WHERE cardinality(c._reasons) = 0
  AND ({keys}) IN (SELECT {keys} FROM repeated)
GROUP BY {keys}
