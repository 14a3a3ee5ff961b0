-- One segment test of a scorecard; values are stored as text and compared as
-- numbers when the KPI is numeric (util.condition_holds).
INSERT INTO meta.scorecard_conditions (config_version, scorecard, field, op, text_values)
VALUES (%(version)s, %(scorecard)s, %(field)s, %(op)s, %(text_values)s)
