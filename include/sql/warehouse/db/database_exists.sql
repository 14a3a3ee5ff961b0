-- Whether the warehouse database exists yet (asked on the server's admin database).
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %(dbname)s) AS database_exists
