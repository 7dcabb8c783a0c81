-- Complaints, PX actions and the SLA engine's storage (issue 16). Same column conventions as
-- 0001: UUID text, fixed-width RFC 3339 UTC text (so text order is time order and the breach
-- scan's index range is a time range), 0/1 integer flags, JSON as text.

-- Complaint taxonomy: group-wide, bilingual, configurable (PX Admin). `code` is the stable key
-- that SLA policies and action triggers name.
CREATE TABLE complaint_categories (
    code        TEXT PRIMARY KEY,
    name_en     TEXT NOT NULL,
    name_ar     TEXT NOT NULL,
    is_active   BIGINT NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
INSERT INTO complaint_categories (code, name_en, name_ar, is_active, created_at, updated_at) VALUES
 ('clinical_care', 'Clinical care', 'الرعاية السريرية', 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
 ('communication', 'Communication', 'التواصل', 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
 ('waiting_time', 'Waiting time', 'وقت الانتظار', 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
 ('billing', 'Billing', 'الفواتير', 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
 ('facilities', 'Facilities and cleanliness', 'المرافق والنظافة', 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
 ('safety', 'Patient safety', 'سلامة المرضى', 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');

CREATE TABLE complaints (
    id              TEXT PRIMARY KEY,
    reference       TEXT NOT NULL UNIQUE,
    hospital_id     TEXT NOT NULL REFERENCES hospitals(id),
    department_id   TEXT REFERENCES departments(id),
    category_code   TEXT NOT NULL REFERENCES complaint_categories(code),
    severity        TEXT NOT NULL,
    source_channel  TEXT NOT NULL,
    source_system   TEXT,
    external_ref    TEXT,
    patient_id      TEXT REFERENCES patients(id),
    physician_id    TEXT REFERENCES physicians(id),
    encounter_id    TEXT,
    subject         TEXT NOT NULL,
    description     TEXT NOT NULL,
    complainant_name    TEXT,
    complainant_contact TEXT,
    language        TEXT NOT NULL DEFAULT 'en',
    status          TEXT NOT NULL,
    assignee_id     TEXT REFERENCES users(id),
    cycle           BIGINT NOT NULL DEFAULT 1,
    created_by      TEXT REFERENCES users(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    resolved_at     TEXT,
    closed_at       TEXT
);
-- Keyset lists newest first (see 0004): group, hospital, department, assignee, status.
CREATE INDEX complaints_created ON complaints (created_at, id);
CREATE INDEX complaints_hospital_created ON complaints (hospital_id, created_at, id);
CREATE INDEX complaints_department_created ON complaints (hospital_id, department_id, created_at, id);
CREATE INDEX complaints_assignee_created ON complaints (assignee_id, created_at, id);
CREATE INDEX complaints_status_created ON complaints (status, created_at, id);
-- A system that sends the same complaint twice (retry) gets the first one back.
CREATE UNIQUE INDEX complaints_external ON complaints (hospital_id, source_system, external_ref);

-- The timeline. `visibility` keeps internal notes ('internal') apart from what the patient is
-- told ('patient'); lifecycle entries (status, assignment) are 'internal'.
CREATE TABLE complaint_updates (
    id            TEXT PRIMARY KEY,
    complaint_id  TEXT NOT NULL REFERENCES complaints(id),
    kind          TEXT NOT NULL,
    visibility    TEXT NOT NULL,
    body          TEXT NOT NULL,
    author_id     TEXT REFERENCES users(id),
    created_at    TEXT NOT NULL
);
CREATE INDEX complaint_updates_complaint ON complaint_updates (complaint_id, created_at, id);

-- Attachment metadata; the bytes live outside the database under `storage_key`, named by
-- their SHA-256 (content-addressed, so a file cannot be swapped under its record).
CREATE TABLE attachments (
    id            TEXT PRIMARY KEY,
    owner_kind    TEXT NOT NULL,
    owner_id      TEXT NOT NULL,
    hospital_id   TEXT NOT NULL REFERENCES hospitals(id),
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    storage_key   TEXT NOT NULL,
    uploaded_by   TEXT REFERENCES users(id),
    created_at    TEXT NOT NULL
);
CREATE INDEX attachments_owner ON attachments (owner_kind, owner_id, created_at);

-- PX actions. `origin_kind` + `origin_id` name the source (complaint, negative survey response,
-- feedback, social mention; NULL id for manual); a source raises at most one action, so a
-- redelivered domain event creates nothing twice.
CREATE TABLE px_actions (
    id              TEXT PRIMARY KEY,
    hospital_id     TEXT NOT NULL REFERENCES hospitals(id),
    department_id   TEXT REFERENCES departments(id),
    origin_kind     TEXT NOT NULL,
    origin_id       TEXT,
    origin          TEXT NOT NULL,
    category_code   TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    severity        TEXT NOT NULL,
    status          TEXT NOT NULL,
    owner_id        TEXT NOT NULL REFERENCES users(id),
    due_at          TEXT,
    evidence_count  BIGINT NOT NULL DEFAULT 0,
    submitted_by    TEXT REFERENCES users(id),
    verified_by     TEXT REFERENCES users(id),
    verified_at     TEXT,
    cycle           BIGINT NOT NULL DEFAULT 1,
    created_by      TEXT REFERENCES users(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    closed_at       TEXT
);
CREATE UNIQUE INDEX px_actions_origin ON px_actions (origin_kind, origin_id);
CREATE INDEX px_actions_owner_due ON px_actions (owner_id, status, due_at);
CREATE INDEX px_actions_hospital_created ON px_actions (hospital_id, created_at, id);
CREATE INDEX px_actions_department_created ON px_actions (hospital_id, department_id, created_at, id);

-- The action's log: every lifecycle event with its evidence (notes, attachment ids).
CREATE TABLE px_action_log (
    id          TEXT PRIMARY KEY,
    action_id   TEXT NOT NULL REFERENCES px_actions(id),
    event       TEXT NOT NULL,
    detail      TEXT NOT NULL,
    actor_id    TEXT REFERENCES users(id),
    created_at  TEXT NOT NULL
);
CREATE INDEX px_action_log_action ON px_action_log (action_id, created_at, id);

-- Business calendar per hospital (one; absent: round-the-clock in the hospital's zone).
-- `hours` is a JSON object mon..sun → ["HH:MM-HH:MM", …]; `holidays` a JSON array of
-- {name, from, to}: the domain's CalendarSpec, validated before it is stored.
CREATE TABLE business_calendars (
    hospital_id  TEXT PRIMARY KEY REFERENCES hospitals(id),
    time_zone    TEXT NOT NULL,
    hours        TEXT NOT NULL,
    holidays     TEXT NOT NULL DEFAULT '[]',
    version      BIGINT NOT NULL DEFAULT 1,
    updated_by   TEXT REFERENCES users(id),
    updated_at   TEXT NOT NULL
);

-- SLA targets per hospital by category ('*' = every category) and severity, in seconds; NULL
-- target = no such goal. `basis` is 'business' (calendar's working time) or 'calendar'.
CREATE TABLE sla_policies (
    id                     TEXT PRIMARY KEY,
    hospital_id            TEXT NOT NULL REFERENCES hospitals(id),
    category_code          TEXT NOT NULL,
    severity               TEXT NOT NULL,
    first_response_secs    BIGINT,
    resolution_secs        BIGINT,
    next_update_secs       BIGINT,
    basis                  TEXT NOT NULL,
    warn_at_percent        BIGINT NOT NULL DEFAULT 75,
    updated_by             TEXT REFERENCES users(id),
    updated_at             TEXT NOT NULL,
    UNIQUE (hospital_id, category_code, severity)
);

-- Escalation ladder per hospital (absent: the standard assignee → department manager →
-- hospital admin → PX admin ladder). `fires_on` is at_risk | breached | breached_for.
CREATE TABLE escalation_steps (
    hospital_id  TEXT NOT NULL REFERENCES hospitals(id),
    level        BIGINT NOT NULL,
    target       TEXT NOT NULL,
    fires_on     TEXT NOT NULL,
    after_hours  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hospital_id, level)
);

-- One SLA clock per complaint or action: the state the scheduler and lists read, recomputed from
-- the history (sla_events) on every change. `next_check_at` is the next instant the clock changes
-- by itself (warning, breach, an escalation step): NULL while paused or stopped.
CREATE TABLE sla_clocks (
    item_kind              TEXT NOT NULL,
    item_id                TEXT NOT NULL,
    hospital_id            TEXT NOT NULL REFERENCES hospitals(id),
    department_id          TEXT,
    category_code          TEXT NOT NULL,
    severity               TEXT NOT NULL,
    is_open                BIGINT NOT NULL DEFAULT 1,
    cycle                  BIGINT NOT NULL DEFAULT 1,
    paused                 BIGINT NOT NULL DEFAULT 0,
    first_response_due_at  TEXT,
    first_responded_at     TEXT,
    resolution_due_at      TEXT,
    resolved_at            TEXT,
    warned_at              TEXT,
    breached_at            TEXT,
    next_check_at          TEXT,
    evaluated_at           TEXT NOT NULL,
    state                  TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (item_kind, item_id)
);
-- The breach scan: due moments of open items only, in time order. A partial index, so closed
-- and paused items cost nothing however many there are.
CREATE INDEX sla_clocks_due ON sla_clocks (next_check_at) WHERE is_open = 1 AND next_check_at IS NOT NULL;
CREATE INDEX sla_clocks_hospital_open ON sla_clocks (hospital_id) WHERE is_open = 1;

-- The clock's history (start, pause/resume/stop as status changes, first response, updates,
-- escalations). Cycles are derived from it: a reopen starts a new one.
CREATE TABLE sla_events (
    id         TEXT PRIMARY KEY,
    item_kind  TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    at         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    state      TEXT,
    level      BIGINT
);
CREATE INDEX sla_events_item ON sla_events (item_kind, item_id, at, id);

-- One row per escalation step reached per cycle: the unique key makes escalation idempotent
-- under retries and several workers (the insert that loses the race does nothing).
CREATE TABLE sla_escalations (
    id          TEXT PRIMARY KEY,
    item_kind   TEXT NOT NULL,
    item_id     TEXT NOT NULL,
    cycle       BIGINT NOT NULL,
    level       BIGINT NOT NULL,
    goal        TEXT NOT NULL,
    fires_on    TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    UNIQUE (item_kind, item_id, cycle, level)
);

-- In-app notifications (escalations, assignments). `email_status` is the hand-off to the email
-- outbox of the surveys delivery design: 'pending' until that outbox takes it.
CREATE TABLE notifications (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    kind          TEXT NOT NULL,
    item_kind     TEXT NOT NULL,
    item_id       TEXT NOT NULL,
    dedup_key     TEXT NOT NULL,
    detail        TEXT NOT NULL,
    email_status  TEXT NOT NULL DEFAULT 'pending',
    created_at    TEXT NOT NULL,
    read_at       TEXT,
    UNIQUE (user_id, dedup_key)
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);
CREATE INDEX notifications_email ON notifications (email_status, created_at);
