-- One scorecard of a newly registered version; position keeps the file order,
-- which decides the scorecard of an account that several segments match.
INSERT INTO meta.scorecards (config_version, scorecard, position, red_below, green_from, min_coverage)
VALUES (%(version)s, %(scorecard)s, %(position)s, %(red_below)s, %(green_from)s, %(min_coverage)s)
