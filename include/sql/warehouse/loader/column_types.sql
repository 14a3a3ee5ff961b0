-- The type of each column of a table, by name: the bulk path checks that
-- temporal values came from temporal database columns, and which columns are
-- text (a quoted empty string must become NULL there, as on the careful path).
SELECT a.attname AS column_name, t.typname AS type_name
FROM pg_attribute AS a
JOIN pg_type AS t ON t.oid = a.atttypid
WHERE a.attrelid = %(table)s::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
