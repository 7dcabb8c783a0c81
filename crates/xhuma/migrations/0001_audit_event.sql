-- The audit trail: one row per inbound transaction and per upstream call.
-- Portable SQL: the same migration runs on SQLite and PostgreSQL. Times are RFC 3339 UTC
-- text with fixed width (millisecond precision), so they sort and compare as text.
-- NHS numbers never appear: patient_pseudonym is HMAC-SHA256(key, NHS number), hex.
CREATE TABLE audit_event (
    id                TEXT PRIMARY KEY,      -- UUID v7 (time-ordered)
    occurred_at       TEXT NOT NULL,
    category          TEXT NOT NULL,         -- 'transaction' | 'upstream'
    transaction_name  TEXT NOT NULL,         -- iti55, iti47, iti38, iti39, preview, pds, sds, gpconnect
    outcome           TEXT NOT NULL,         -- success, not_found, restricted, ..., error
    error_code        TEXT,
    patient_pseudonym TEXT,
    user_id           TEXT,
    user_role         TEXT,
    organisation      TEXT,
    purpose_of_use    TEXT,
    message_id        TEXT,
    relates_to        TEXT,
    trace_id          TEXT,                  -- GP Connect Ssp-TraceID
    document_id       TEXT,
    client_addr       TEXT,
    duration_ms       BIGINT
);

CREATE INDEX audit_event_occurred_at ON audit_event (occurred_at);
CREATE INDEX audit_event_patient ON audit_event (patient_pseudonym, occurred_at);
