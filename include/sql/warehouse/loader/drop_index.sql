-- A plain index is rebuilt from its definition after the load.
DROP INDEX {index}
