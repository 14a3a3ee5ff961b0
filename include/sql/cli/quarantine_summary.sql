-- What `python -m customer_health quarantine` prints: rows still waiting in
-- quarantine, grouped by what was wrong, with one example key each, so a
-- person sees the few reasons behind many rows. Optionally one source only.
SELECT source, stream, reason, count(*) AS quarantined, min(record_key) AS example
FROM meta.quarantine
WHERE released_in_batch IS NULL
  AND (%(source)s::text IS NULL OR source = %(source)s)
GROUP BY source, stream, reason
ORDER BY source, stream, quarantined DESC, reason
