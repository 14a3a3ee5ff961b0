-- Every index of a table with the constraint it carries (primary key, unique,
-- exclusion), as the definitions that rebuild them: the bulk path drops them,
-- loads, and rebuilds them once. Constraints first, so a key is checked
-- before plain indexes are built.
SELECT con.conname AS constraint_name,
       pg_get_constraintdef(con.oid) AS constraint_definition,
       i.indexrelid::regclass::text AS index_name,
       pg_get_indexdef(i.indexrelid) AS index_definition
FROM pg_index AS i
LEFT JOIN pg_constraint AS con
       ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
WHERE i.indrelid = %(table)s::regclass
ORDER BY con.conname IS NULL, i.indexrelid
