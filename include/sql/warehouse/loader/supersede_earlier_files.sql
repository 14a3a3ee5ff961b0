-- Several export files in one batch: for a mutable stream (accounts,
-- contracts) the later file holds the newer state of a record, so a key's
-- rows from earlier files step aside (they count as unchanged) instead of the
-- key being quarantined as a conflict. Copies that disagree within one file
-- still are. Files are told apart by the origin the extractor wrote
-- (<file>:<line>); API records carry no file and are left alone.
WITH placed AS (
    SELECT c._line, {key_columns}, substring(l._origin FROM '^(.*):[0-9]+$') AS file
    FROM _candidates AS c
    JOIN {landing} AS l ON l._batch_id = %(batch_id)s AND l._line = c._line
    WHERE cardinality(c._reasons) = 0
),
latest AS (
    SELECT {keys}, (array_agg(file ORDER BY _line DESC))[1] AS file
    FROM placed
    WHERE file IS NOT NULL
    GROUP BY {keys}
    HAVING count(DISTINCT file) > 1
)
DELETE FROM _candidates AS c
USING placed AS p, latest AS t
WHERE c._line = p._line AND {key_match} AND p.file IS DISTINCT FROM t.file
