-- Whether the bulk path loaded a record stamped beyond the future tolerance:
-- then it rolls back and the careful path quarantines that record.
SELECT EXISTS (SELECT 1 FROM {staging} WHERE _batch_id = %(batch_id)s AND {column} > %(limit)s::timestamptz) AS found
