-- What the daily scoring filters on leads an index, so one day's statements
-- cost one day's rows however long the history grows (issue 16):
-- - rescoring a day deletes that day's components, changes and parent scores
--   by (day, config_version); their primary keys lead with the account, so
--   without these each DELETE read every day ever scored;
-- - the quality gate judges freshness by the data's own time (the newest row
--   before the day's end) and counts a window of days, for surveys and CSM
--   sentiment too: one probe down an event-time index each.
CREATE INDEX health_score_components_day_idx ON marts.health_score_components (day, config_version);
CREATE INDEX health_score_changes_day_idx ON marts.health_score_changes (day, config_version);
CREATE INDEX parent_health_scores_day_idx ON marts.parent_health_scores (day, config_version);
CREATE INDEX survey_responses_submitted_at_idx ON staging.survey_responses (submitted_at);
CREATE INDEX crm_sentiment_recorded_at_idx ON staging.crm_sentiment (recorded_at);

-- The gate keeps both clocks: last_data_at is the newest row by the data's own
-- time (event streams), last_loaded_at when the stream last finished loading.
ALTER TABLE meta.source_quality ADD COLUMN last_loaded_at timestamptz;
COMMENT ON COLUMN meta.source_quality.last_data_at IS 'Newest row of the stream by its own event time before the end of the day (event streams); NULL for snapshot streams.';
COMMENT ON COLUMN meta.source_quality.last_loaded_at IS 'When the stream last finished loading, from any source.';
