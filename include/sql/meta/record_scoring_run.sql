-- A build_health_scores run finished: the day it scored last and its versions.
-- Parameters: day, scoring_version, cmi_version, days_scored.
INSERT INTO meta.scoring_runs (day, scoring_version, cmi_version, days_scored)
VALUES (%(day)s, %(scoring_version)s, %(cmi_version)s, %(days_scored)s)
