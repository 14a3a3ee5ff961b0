-- Rescoring days replaces exactly those days' rows of that config version, so
-- a rerun gives the same rows and other versions' rows are never touched.
-- Children first: parents are derived from the scores (and the view
-- marts.health_score_changes from the components, V095). Each
-- DELETE goes through an index leading with the day (V004, V045, the day-first keys of V070 and V071).
-- Parameters: first_day, last_day, version.
DELETE FROM marts.parent_health_scores
WHERE day BETWEEN %(first_day)s::date AND %(last_day)s::date AND config_version = %(version)s::text;
DELETE FROM marts.health_score_components
WHERE day BETWEEN %(first_day)s::date AND %(last_day)s::date AND config_version = %(version)s::text;
DELETE FROM marts.health_scores
WHERE day BETWEEN %(first_day)s::date AND %(last_day)s::date AND config_version = %(version)s::text;
