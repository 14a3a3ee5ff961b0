-- Config versions travel through the warehouse, not files: each config file is
-- recorded here (by content hash, with its text) by the first step of the DAG
-- that reads it; later steps and DAGs read the version and the text from here,
-- so editing a YAML file between two runs cannot change what a later step reads.
-- (Numbered V020+ so that migrations written in parallel do not collide.)

CREATE TABLE meta.config_versions (
    kind          text        NOT NULL CHECK (kind IN ('scorecards', 'kpis', 'cmi', 'playbooks', 'scoring')),
    version       text        NOT NULL,
    parts         jsonb       NOT NULL DEFAULT '{}',
    source_yaml   text,
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, version)
);
COMMENT ON TABLE meta.config_versions IS 'Every version of every config file a DAG ran with, once per content hash (the first registration is kept).';
COMMENT ON COLUMN meta.config_versions.kind IS 'Which config: scorecards, kpis, cmi or playbooks (one YAML file each), or scoring (the version stamped on health scores: scorecards.yml and kpis.yml together).';
COMMENT ON COLUMN meta.config_versions.version IS 'Content hash (12 hex digits). For scoring: a hash of the parts'' versions, so a changed KPI definition is a new scoring version.';
COMMENT ON COLUMN meta.config_versions.parts IS 'For scoring: {"scorecards": <version>, "kpis": <version>}, the file versions it is made of; {} for a single file.';
COMMENT ON COLUMN meta.config_versions.source_yaml IS 'The file''s text as registered; later steps parse this, never the file. NULL for scoring (see its parts).';
COMMENT ON COLUMN meta.config_versions.registered_at IS 'When a run first registered this version.';

CREATE TABLE meta.scoring_runs (
    run_id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day                date        NOT NULL,
    scoring_version    text        NOT NULL,
    cmi_version        text        NOT NULL,
    days_scored        int         NOT NULL,
    finished_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON meta.scoring_runs (day, finished_at);
COMMENT ON TABLE meta.scoring_runs IS 'One row per finished build_health_scores run: which day it scored last, under which versions. create_csm_tasks reads its versions here.';
COMMENT ON COLUMN meta.scoring_runs.day IS 'The last (latest) day the run scored and put in quadrants.';
COMMENT ON COLUMN meta.scoring_runs.scoring_version IS 'meta.config_versions (kind scoring): the config_version of the run''s marts.health_scores rows and the health_version of its marts.account_quadrants rows.';
COMMENT ON COLUMN meta.scoring_runs.cmi_version IS 'meta.config_versions (kind cmi): the cmi_version of the run''s marts.cmi_scores and marts.account_quadrants rows.';
COMMENT ON COLUMN meta.scoring_runs.days_scored IS 'Days the run scored (1 + history_days), ending at day.';
COMMENT ON COLUMN meta.scoring_runs.finished_at IS 'When the run committed its quadrants; the latest run wins.';
