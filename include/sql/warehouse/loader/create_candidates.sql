-- The batch cast to canonical types, with the reasons each row cannot load,
-- from the stream's own include/sql/staging file: every check after this one
-- adds reasons here, and only rows without reasons reach staging.
CREATE TEMP TABLE _candidates ON COMMIT DROP AS
{cast_and_check}
