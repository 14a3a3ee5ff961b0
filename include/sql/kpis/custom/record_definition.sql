-- What a custom column now holds; a new hash resets what was built with it.
INSERT INTO meta.kpi_definitions AS d (name, definition_hash, kind, label, description, definition)
VALUES (%(name)s, %(definition_hash)s, %(kind)s, %(label)s, %(description)s, %(definition)s::jsonb)
ON CONFLICT (name) DO UPDATE
SET definition_hash = excluded.definition_hash, kind = excluded.kind, label = excluded.label,
    description = excluded.description, definition = excluded.definition, retired_at = NULL,
    defined_at = CASE WHEN d.definition_hash = excluded.definition_hash THEN d.defined_at ELSE now() END,
    built_from = CASE WHEN d.definition_hash = excluded.definition_hash AND d.retired_at IS NULL THEN d.built_from END,
    built_through = CASE WHEN d.definition_hash = excluded.definition_hash AND d.retired_at IS NULL THEN d.built_through END
