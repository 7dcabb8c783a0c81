-- Stages can be added to and removed from an existing template. A removed stage is soft-deleted,
-- not deleted: stage_instances of journeys already started keep referencing it. Positions and
-- completing event codes stay unique among the live stages only, so a removed stage's position
-- and event code can be taken by another stage.
--
-- SQLite cannot drop a table constraint, so the table is rebuilt. sqlx runs this file in a
-- transaction, where PRAGMA foreign_keys cannot be switched off; with foreign keys on, DROP TABLE
-- deletes every row first, and each stage_instances row left pointing at a missing stage counts
-- as a violation. defer_foreign_keys moves the check to COMMIT, where the count must be back to
-- zero. The count only goes down when rows are inserted into a table named stage_templates, so
-- the rows are kept aside, the table is dropped and recreated under its own name, and the rows
-- are inserted back. (Creating stage_templates_new and renaming it, as in the documented
-- procedure, leaves the count above zero: the COMMIT fails.) A row lost on the way would fail the
-- COMMIT too, instead of leaving stage_instances dangling.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE stage_templates_old AS SELECT * FROM stage_templates;
DROP TABLE stage_templates;

CREATE TABLE stage_templates (
    id                    TEXT PRIMARY KEY,
    journey_template_id   TEXT NOT NULL REFERENCES journey_templates(id),
    position              INTEGER NOT NULL,
    code                  TEXT NOT NULL,
    name                  TEXT NOT NULL,
    completing_event_code TEXT NOT NULL,
    survey_template_ref   TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    deleted_at            TEXT
);
INSERT INTO stage_templates (id, journey_template_id, position, code, name, completing_event_code,
                             survey_template_ref, created_at, updated_at, deleted_at)
SELECT id, journey_template_id, position, code, name, completing_event_code,
       survey_template_ref, created_at, updated_at, NULL
FROM stage_templates_old;
DROP TABLE stage_templates_old;

CREATE UNIQUE INDEX stage_templates_live_position ON stage_templates (journey_template_id, position)
    WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX stage_templates_live_event ON stage_templates (journey_template_id, completing_event_code)
    WHERE deleted_at IS NULL;
CREATE INDEX stage_templates_event ON stage_templates (completing_event_code);
