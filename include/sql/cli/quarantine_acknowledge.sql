-- `quarantine acknowledge`: a person has seen the chosen open entries and
-- decided they need nothing more (a test account, a known bad export). They
-- close with the note; the same row arriving again is not stored again.
UPDATE meta.quarantine
SET closed_at = now(), closed_how = 'acknowledged', closed_note = %(note)s
WHERE released_in_batch IS NULL AND closed_at IS NULL
  AND (%(ids)s::bigint[] IS NULL OR quarantine_id = ANY(%(ids)s::bigint[]))
  AND (%(source)s::text IS NULL OR source = %(source)s)
  AND (%(stream)s::text IS NULL OR stream = %(stream)s)
  AND (%(kind)s::text IS NULL OR reason_kind = %(kind)s)
