-- The batch as received, in raw.<stream>, for sources that cannot be read again.
INSERT INTO {raw} ({columns})
SELECT {columns} FROM {landing} ORDER BY _line
