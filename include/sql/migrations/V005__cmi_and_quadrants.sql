-- Customer Maturity Index per assessment, and the daily health x maturity matrix.

CREATE TABLE marts.cmi_scores (
    assessment_id   text NOT NULL,
    config_version  text NOT NULL,
    account_id      text NOT NULL,
    respondent      text,
    assessed_at     timestamptz NOT NULL,
    cmi             numeric(4, 3) NOT NULL,
    cmi_100         numeric(4, 1) NOT NULL,
    characteristics jsonb NOT NULL,
    characteristics_answered int NOT NULL,
    characteristics_total    int NOT NULL,
    questions_answered int NOT NULL,
    PRIMARY KEY (assessment_id, config_version)
);
CREATE INDEX ON marts.cmi_scores (account_id, config_version, assessed_at);
COMMENT ON TABLE marts.cmi_scores IS 'One row per maturity assessment (questionnaire response or CSM assessment): history is kept per assessment.';
COMMENT ON COLUMN marts.cmi_scores.cmi IS 'Weighted mean of the answered characteristics, 1 (very low) to 5 (very high).';
COMMENT ON COLUMN marts.cmi_scores.cmi_100 IS 'The same on 0-100: (cmi - 1) / 4 * 100.';
COMMENT ON COLUMN marts.cmi_scores.characteristics IS 'Characteristic -> score (mean of its answered factors, 1-5).';

CREATE TABLE marts.account_quadrants (
    account_id      text NOT NULL,
    day             date NOT NULL,
    health_version  text NOT NULL,
    cmi_version     text NOT NULL,
    health_score    numeric(5, 2),
    health_band     text NOT NULL,
    cmi             numeric(4, 3),
    cmi_assessed_at timestamptz,
    cmi_stale       boolean NOT NULL,
    quadrant        text NOT NULL CHECK (quadrant IN ('star', 'cash_cow', 'worth_keeping', 'tough', 'unknown_maturity', 'unknown_health')),
    PRIMARY KEY (account_id, day, health_version, cmi_version)
);
CREATE INDEX ON marts.account_quadrants (day, quadrant);
COMMENT ON TABLE marts.account_quadrants IS 'Daily health x maturity quadrant per account: star, cash_cow, worth_keeping, tough; unknown_maturity when never assessed, unknown_health when the score had too little data.';
COMMENT ON COLUMN marts.account_quadrants.cmi IS 'The latest assessment submitted by the end of the day (point in time).';
COMMENT ON COLUMN marts.account_quadrants.cmi_stale IS 'That assessment is older than cmi.yml stale_after_days: time to assess again.';
