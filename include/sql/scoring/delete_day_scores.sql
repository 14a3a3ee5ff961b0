-- Rescoring a day replaces exactly that day's rows of that config version, so
-- a rerun gives the same rows and other versions' rows are never touched.
-- Children first: changes and parents are derived from the scores.
DELETE FROM marts.health_score_changes WHERE day = %(day)s AND config_version = %(version)s;
DELETE FROM marts.parent_health_scores WHERE day = %(day)s AND config_version = %(version)s;
DELETE FROM marts.health_score_components WHERE day = %(day)s AND config_version = %(version)s;
DELETE FROM marts.health_scores WHERE day = %(day)s AND config_version = %(version)s;
