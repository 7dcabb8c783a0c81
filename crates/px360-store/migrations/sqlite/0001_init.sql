-- PX360 schema v1. Identifiers are UUID text, timestamps fixed-width RFC 3339 UTC text, JSON as
-- text: the same column types behave identically on SQLite and PostgreSQL through sqlx::Any.
CREATE TABLE hospitals (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL DEFAULT 'Europe/London',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);

CREATE TABLE departments (
    id          TEXT PRIMARY KEY,
    hospital_id TEXT NOT NULL REFERENCES hospitals(id),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT,
    UNIQUE (hospital_id, code)
);

CREATE TABLE physicians (
    id             TEXT PRIMARY KEY,
    hospital_id    TEXT NOT NULL REFERENCES hospitals(id),
    department_id  TEXT NOT NULL REFERENCES departments(id),
    licence_number TEXT NOT NULL,
    given_name     TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    specialty      TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    deleted_at     TEXT,
    UNIQUE (hospital_id, licence_number)
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    email         TEXT,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    hospital_id   TEXT REFERENCES hospitals(id),
    department_id TEXT REFERENCES departments(id),
    is_active     BIGINT NOT NULL DEFAULT 1,
    last_login_at TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    deleted_at    TEXT
);

CREATE TABLE employees (
    id              TEXT PRIMARY KEY,
    hospital_id     TEXT NOT NULL REFERENCES hospitals(id),
    department_id   TEXT NOT NULL REFERENCES departments(id),
    employee_number TEXT NOT NULL,
    given_name      TEXT NOT NULL,
    family_name     TEXT NOT NULL,
    job_title       TEXT,
    user_id         TEXT REFERENCES users(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT,
    UNIQUE (hospital_id, employee_number)
);

CREATE TABLE patients (
    id                 TEXT PRIMARY KEY,
    hospital_id        TEXT NOT NULL REFERENCES hospitals(id),
    department_id      TEXT REFERENCES departments(id),
    mrn                TEXT NOT NULL,
    given_name         TEXT,
    family_name        TEXT,
    date_of_birth      TEXT,
    preferred_language TEXT NOT NULL DEFAULT 'en',
    email              TEXT,
    phone              TEXT,
    contact_channels   TEXT NOT NULL DEFAULT '[]',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT,
    UNIQUE (hospital_id, mrn)
);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    family_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    hospital_id    TEXT NOT NULL REFERENCES hospitals(id),
    name           TEXT NOT NULL,
    prefix         TEXT NOT NULL UNIQUE,
    key_hash       TEXT NOT NULL,
    source_systems TEXT NOT NULL,
    created_by     TEXT REFERENCES users(id),
    created_at     TEXT NOT NULL,
    last_used_at   TEXT,
    revoked_at     TEXT
);

CREATE TABLE journey_templates (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);

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
    UNIQUE (journey_template_id, position),
    UNIQUE (journey_template_id, completing_event_code)
);
CREATE INDEX stage_templates_event ON stage_templates (completing_event_code);

CREATE TABLE journey_instances (
    id                  TEXT PRIMARY KEY,
    hospital_id         TEXT NOT NULL REFERENCES hospitals(id),
    department_id       TEXT REFERENCES departments(id),
    patient_id          TEXT REFERENCES patients(id),
    patient_identifier  TEXT NOT NULL,
    journey_template_id TEXT NOT NULL REFERENCES journey_templates(id),
    encounter_id        TEXT NOT NULL,
    status              TEXT NOT NULL,
    started_at          TEXT NOT NULL,
    completed_at        TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (hospital_id, encounter_id, journey_template_id)
);
CREATE INDEX journey_instances_patient ON journey_instances (patient_id);
CREATE INDEX journey_instances_started ON journey_instances (started_at);
CREATE INDEX journey_instances_hospital_started ON journey_instances (hospital_id, started_at);

CREATE TABLE inbound_events (
    id                 TEXT PRIMARY KEY,
    hospital_id        TEXT NOT NULL REFERENCES hospitals(id),
    api_key_id         TEXT NOT NULL REFERENCES api_keys(id),
    source_system      TEXT NOT NULL,
    event_code         TEXT NOT NULL,
    encounter_id       TEXT NOT NULL,
    patient_identifier TEXT NOT NULL,
    payload            TEXT NOT NULL,
    occurred_at        TEXT NOT NULL,
    received_at        TEXT NOT NULL,
    status             TEXT NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT,
    warnings           TEXT NOT NULL DEFAULT '[]',
    next_attempt_at    TEXT,
    processed_at       TEXT,
    processed_by       TEXT,
    UNIQUE (hospital_id, source_system, event_code, encounter_id)
);
CREATE INDEX inbound_events_status ON inbound_events (status, received_at);
-- The queue: pending events only, so claiming stays O(log n) however large the table grows.
CREATE INDEX inbound_events_pending ON inbound_events (received_at) WHERE status IN ('received', 'failed');

CREATE TABLE stage_instances (
    id                    TEXT PRIMARY KEY,
    journey_instance_id   TEXT NOT NULL REFERENCES journey_instances(id),
    stage_template_id     TEXT NOT NULL REFERENCES stage_templates(id),
    position              INTEGER NOT NULL,
    completing_event_code TEXT NOT NULL,
    status                TEXT NOT NULL,
    completed_at          TEXT,
    completed_by_event_id TEXT REFERENCES inbound_events(id),
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    UNIQUE (journey_instance_id, stage_template_id)
);

-- Append-only, hash-chained. audit_head serialises appenders across processes: the first
-- statement of every append transaction updates its single row (row lock on PostgreSQL, write
-- lock on SQLite).
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT,
    ip          TEXT,
    user_agent  TEXT,
    action      TEXT NOT NULL,
    object_type TEXT,
    object_id   TEXT,
    hospital_id TEXT,
    changes     TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_hospital ON audit_log (hospital_id, seq);

CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY,
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Scheduled jobs fire once per slot across all processes: the slot is claimed with a
-- compare-and-set on next_run_at.
CREATE TABLE schedules (
    name        TEXT PRIMARY KEY,
    next_run_at TEXT NOT NULL,
    last_run_at TEXT,
    last_run_by TEXT
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
