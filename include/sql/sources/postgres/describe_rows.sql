-- No rows, only the result's column types: whether dates and times came from
-- typed database columns decides if the loader's bulk path may take the batch.
{rows} LIMIT 0
