-- What `python -m customer_health quarantine` prints: open entries (not
-- released, not closed), grouped by the kind of what was wrong (the reason
-- without its key or value), with the first three examples of each: id (for
-- release / acknowledge), key, where the record is in its source, and the reason.
SELECT source, stream, reason_kind, count(*) AS quarantined,
       (array_agg(format('#%%s %%s at %%s: %%s', quarantine_id, coalesce(left(record_key, 60), '(no key)'),
                         coalesce(origin, format('batch %%s line %%s', batch_id, line)), left(reason, 300))
                  ORDER BY quarantine_id))[1:3] AS examples
FROM meta.quarantine
WHERE released_in_batch IS NULL AND closed_at IS NULL
  AND (%(source)s::text IS NULL OR source = %(source)s)
  AND (%(stream)s::text IS NULL OR stream = %(stream)s)
GROUP BY source, stream, reason_kind
ORDER BY source, stream, quarantined DESC, reason_kind
