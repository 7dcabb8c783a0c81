-- Call centre and quality-improvement projects (issue 18, items 2 and 4). Same conventions as
-- 0001 and 0011: UUID text, fixed-width RFC 3339 UTC text, 0/1 integer flags, JSON as text.

-- A call logged by an agent. The patient is the one found by MRN or phone (lookup_kind says
-- which; the value typed is never stored). `notes` are free text (patient data) with the
-- sentiment engine's verdict: `sentiment` negative|neutral|positive, `sentiment_score` in
-- thousandths (-1000..=1000, integers keep both engines exact), `themes` a JSON list.
-- A call links what it produced: a complaint, a phone survey response, the callback it made.
CREATE TABLE calls (
    id                  TEXT PRIMARY KEY,
    hospital_id         TEXT NOT NULL REFERENCES hospitals(id),
    department_id       TEXT REFERENCES departments(id),
    agent_id            TEXT NOT NULL REFERENCES users(id),
    direction           TEXT NOT NULL,
    caller              TEXT NOT NULL,
    patient_id          TEXT REFERENCES patients(id),
    lookup_kind         TEXT,
    reason              TEXT NOT NULL,
    outcome             TEXT NOT NULL,
    duration_secs       BIGINT NOT NULL,
    started_at          TEXT NOT NULL,
    notes               TEXT,
    sentiment           TEXT,
    sentiment_score     BIGINT,
    themes              TEXT NOT NULL DEFAULT '[]',
    complaint_id        TEXT REFERENCES complaints(id),
    survey_response_id  TEXT REFERENCES survey_responses(id),
    callback_id         TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX calls_hospital ON calls (hospital_id, started_at, id);
CREATE INDEX calls_started ON calls (started_at, id);
CREATE INDEX calls_agent ON calls (agent_id, started_at);

-- The callback queue. `due_at` is the SLA engine's first-response target for category
-- 'callback' and the priority, on the hospital's business calendar (NULL: no target). A
-- callback is done by an outbound call (`done_call_id`); `on_time` records whether that was
-- by its due time.
CREATE TABLE callbacks (
    id            TEXT PRIMARY KEY,
    hospital_id   TEXT NOT NULL REFERENCES hospitals(id),
    department_id TEXT REFERENCES departments(id),
    call_id       TEXT REFERENCES calls(id),
    patient_id    TEXT REFERENCES patients(id),
    priority      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    note          TEXT,
    assignee_id   TEXT REFERENCES users(id),
    status        TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    due_at        TEXT,
    done_at       TEXT,
    done_by       TEXT REFERENCES users(id),
    done_call_id  TEXT REFERENCES calls(id),
    on_time       BIGINT,
    created_by    TEXT REFERENCES users(id),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX callbacks_queue ON callbacks (hospital_id, status, due_at);
CREATE INDEX callbacks_done ON callbacks (hospital_id, done_at);

-- How a survey response was taken: 'web' (the patient's link) or 'phone' (an agent keyed the
-- answers in during a call; `agent_id` is the agent). Phone responses hang off an invitation
-- with channel 'phone' and reason 'phone', so analytics counts them with the web ones and can
-- tell them apart by channel.
ALTER TABLE survey_responses ADD COLUMN mode TEXT NOT NULL DEFAULT 'web';
ALTER TABLE survey_responses ADD COLUMN agent_id TEXT;

-- Quality-improvement projects. Measures, milestones, linked actions and themes are small
-- bounded lists (px360_domain::qi::project limits) stored as JSON and always written whole;
-- `granularity` (week|month) and `baseline_from` / `change_date` (local dates) shape the run
-- chart: points before the change date are the baseline the median is frozen on.
CREATE TABLE qi_projects (
    id            TEXT PRIMARY KEY,
    hospital_id   TEXT NOT NULL REFERENCES hospitals(id),
    department_id TEXT REFERENCES departments(id),
    title         TEXT NOT NULL,
    aim           TEXT NOT NULL,
    owner_id      TEXT NOT NULL REFERENCES users(id),
    status        TEXT NOT NULL,
    granularity   TEXT NOT NULL,
    baseline_from TEXT NOT NULL,
    change_date   TEXT,
    measures      TEXT NOT NULL,
    milestones    TEXT NOT NULL DEFAULT '[]',
    action_ids    TEXT NOT NULL DEFAULT '[]',
    themes        TEXT NOT NULL DEFAULT '[]',
    created_by    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX qi_projects_hospital ON qi_projects (hospital_id, updated_at, id);

-- PDSA cycles of a project, numbered from 1. `stage` plan|do|study|act|closed (the domain's
-- machine); each stage's note is written when the cycle leaves it; `decision` once closed.
CREATE TABLE qi_pdsa_cycles (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES qi_projects(id),
    seq         BIGINT NOT NULL,
    title       TEXT NOT NULL,
    stage       TEXT NOT NULL,
    decision    TEXT,
    plan_note   TEXT,
    do_note     TEXT,
    study_note  TEXT,
    act_note    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (project_id, seq)
);
