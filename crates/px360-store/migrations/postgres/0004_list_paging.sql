-- Keyset paging of the newest-first lists (Db::events, Db::journeys): a page is "the next rows
-- strictly older than (timestamp, id)", ordered by both descending. Each filter combination the
-- lists use gets an index that ends in (timestamp, id), so a page is one index range read in
-- order (no sort, no scan of older rows) however far back it lies. The id is part of every key:
-- a batch stamps many rows with one timestamp, and those must come in a stable order too.
--
-- Events: group-wide (PX Admin), per hospital (Hospital Admin, PX Coordinator), and by status.
-- The status index is widened rather than duplicated; the sweeper's (status, received_at)
-- lookups use its prefix as before. Hospital and status together use one of the two (the
-- planner picks the more selective): every index here is paid on each event intake, the hot
-- write path, so there is no fourth one for that combination.
DROP INDEX inbound_events_status;
CREATE INDEX inbound_events_status ON inbound_events (status, received_at, id);
CREATE INDEX inbound_events_received ON inbound_events (received_at, id);
CREATE INDEX inbound_events_hospital_received ON inbound_events (hospital_id, received_at, id);

-- Journeys: group-wide, per hospital, per department (department-scoped roles, whose filter
-- names their hospital as well: with both equalities in one index, SQLite's planner prefers it
-- over the hospital index even without statistics). A patient's journeys are few;
-- journey_instances_patient finds them and they are sorted in memory.
DROP INDEX journey_instances_started;
CREATE INDEX journey_instances_started ON journey_instances (started_at, id);
DROP INDEX journey_instances_hospital_started;
CREATE INDEX journey_instances_hospital_started ON journey_instances (hospital_id, started_at, id);
CREATE INDEX journey_instances_department_started ON journey_instances (hospital_id, department_id, started_at, id);
