-- A survey taken by phone has no journey (its invitation's journey id is the call's), so the
-- department came from nowhere and the analytics roll-ups counted it for the hospital only.
-- The invitation now carries the call's department (the agent's, or the one the call named);
-- readers take the journey's department first, then this one. NULL for journey invitations.
ALTER TABLE survey_invitations ADD COLUMN department_id TEXT REFERENCES departments(id);
