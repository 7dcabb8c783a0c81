-- Journey templates become hospital-scoped: NULL = group-wide (seeded, PX Admin only), otherwise
-- owned by one hospital and managed by its Hospital Admin.
ALTER TABLE journey_templates ADD COLUMN hospital_id TEXT REFERENCES hospitals(id);
CREATE INDEX journey_templates_hospital ON journey_templates (hospital_id);
