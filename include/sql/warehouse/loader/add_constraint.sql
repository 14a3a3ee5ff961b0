-- Rebuilding a key constraint builds its index and checks the key in one pass.
ALTER TABLE {table} ADD CONSTRAINT {constraint} {definition}
