-- The batch as received, in raw.<stream>, for sources that cannot be read again:
-- with each record's origin, the fields the stream does not map, and why the
-- extractor had to alter it, if it did.
INSERT INTO {raw} ({columns})
SELECT {columns} FROM {landing} ORDER BY _line
