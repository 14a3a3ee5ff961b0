-- A record stamped later than now plus the stream's future tolerance (a clock
-- set to 2031) is quarantined: it would count as activity that has not
-- happened. It loads once its time has come and a later read brings it again.
UPDATE _candidates AS c
SET _reasons = c._reasons || format('in the future: %%s %%s is after %%s (now + the future tolerance)',
                                     %(column)s::text, c.{column}, %(limit)s::timestamptz)
WHERE cardinality(c._reasons) = 0 AND c.{column} > %(limit)s::timestamptz
