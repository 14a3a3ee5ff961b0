-- How many assessments the CMI build scored under this cmi.yml version, for the run's log.
SELECT count(*) AS assessments
FROM marts.cmi_scores
WHERE config_version = %(version)s
