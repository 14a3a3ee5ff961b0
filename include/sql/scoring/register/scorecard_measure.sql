-- One measure of a scorecard, with the stream its KPI comes from, so the
-- quality gate can carry its last good value when that feed breaks.
INSERT INTO meta.scorecard_measures
    (config_version, scorecard, group_name, group_weight, measure, kpi, stream,
     direction, method, red, green, weight, missing_score)
VALUES (%(version)s, %(scorecard)s, %(group_name)s, %(group_weight)s, %(measure)s, %(kpi)s, %(stream)s,
        %(direction)s, %(method)s, %(red)s, %(green)s, %(weight)s, %(missing_score)s)
