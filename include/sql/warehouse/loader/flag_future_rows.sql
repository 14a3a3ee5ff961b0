-- A record stamped later than now plus the stream's future tolerance (a clock
-- set to 2031) is quarantined: it would count as activity that has not
-- happened. It loads once its time has come and a later read brings it again.
-- The reason names no moving limit, so a re-read finds the same entry.
UPDATE _candidates AS c
SET _reasons = c._reasons || format('in the future: %%s %%s is beyond now + the future tolerance',
                                     %(column)s::text, c.{column})
WHERE cardinality(c._reasons) = 0 AND c.{column} > %(limit)s::timestamptz
