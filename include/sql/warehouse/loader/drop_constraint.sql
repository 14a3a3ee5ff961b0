-- An index that carries a constraint goes with its constraint.
ALTER TABLE {table} DROP CONSTRAINT {constraint}
