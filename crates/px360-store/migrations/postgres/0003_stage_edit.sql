-- Stages can be added to and removed from an existing template. A removed stage is soft-deleted,
-- not deleted: stage_instances of journeys already started keep referencing it. Positions and
-- completing event codes stay unique among the live stages only, so a removed stage's position
-- and event code can be taken by another stage. The constraint names are PostgreSQL's generated
-- ones from 0001 (checked against pg_constraint).
ALTER TABLE stage_templates ADD COLUMN deleted_at TEXT;
ALTER TABLE stage_templates DROP CONSTRAINT stage_templates_journey_template_id_position_key;
ALTER TABLE stage_templates DROP CONSTRAINT stage_templates_journey_template_id_completing_event_code_key;
CREATE UNIQUE INDEX stage_templates_live_position ON stage_templates (journey_template_id, position)
    WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX stage_templates_live_event ON stage_templates (journey_template_id, completing_event_code)
    WHERE deleted_at IS NULL;
