-- Records the extractor could not pass on as they were (a NUL byte, an
-- oversized value, a ragged CSV row, bytes not in the file's encoding) came
-- with their values made storable and the reason why: that reason replaces
-- whatever the casts said about the altered values.
UPDATE _candidates AS c
SET _reasons = ARRAY[l._reject]
FROM {landing} AS l
WHERE l._batch_id = %(batch_id)s AND l._line = c._line AND l._reject IS NOT NULL
