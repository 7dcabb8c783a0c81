-- Clinical times. `started_at` / `completed_at` of journeys and stages now hold the clinical time
-- (the timestamp of the event that started or completed them); when PX360 recorded that
-- (the worker's processing moment) is kept separately in the `*_recorded_at` columns.
-- Rows written before this migration carry the processing moment in both.
ALTER TABLE journey_instances ADD COLUMN started_recorded_at TEXT;
ALTER TABLE journey_instances ADD COLUMN completed_recorded_at TEXT;
ALTER TABLE stage_instances ADD COLUMN completed_recorded_at TEXT;
UPDATE journey_instances SET started_recorded_at = started_at, completed_recorded_at = completed_at;
UPDATE stage_instances SET completed_recorded_at = completed_at WHERE completed_at IS NOT NULL;
