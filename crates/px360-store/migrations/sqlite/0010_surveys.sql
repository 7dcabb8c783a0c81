-- Surveys: templates with frozen published versions, the send decision recorded per completed
-- stage (survey_invitations), an outbox of messages to send, the tokens of the links sent,
-- responses with their scores, per-channel opt-outs, and survey domain events (a negative
-- response, for the action centre). Identifiers are UUID text and timestamps RFC 3339 UTC text,
-- as everywhere else.

-- A template is group-wide (hospital_id NULL) or owned by one hospital. `content` is the editable
-- draft (px360_domain::survey::content JSON), `policy` the trigger policy
-- (px360_domain::survey::trigger JSON). `version` is the version the draft content has or will
-- have once published; `published_version` the newest version patients can receive.
CREATE TABLE survey_templates (
    id                TEXT PRIMARY KEY,
    hospital_id       TEXT REFERENCES hospitals(id),
    code              TEXT NOT NULL,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL,
    version           BIGINT NOT NULL,
    published_version BIGINT,
    content           TEXT NOT NULL,
    policy            TEXT NOT NULL DEFAULT '{}',
    created_by        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
-- Codes are unique within their scope (group-wide codes among group-wide templates).
CREATE UNIQUE INDEX survey_templates_scope_code ON survey_templates (COALESCE(hospital_id, ''), code);
CREATE INDEX survey_templates_hospital ON survey_templates (hospital_id, updated_at, id);

-- A published version, frozen: PublishedSurvey's stored JSON, verified against its hash on read.
CREATE TABLE survey_versions (
    id            TEXT PRIMARY KEY,
    template_id   TEXT NOT NULL REFERENCES survey_templates(id),
    version       BIGINT NOT NULL,
    content_hash  TEXT NOT NULL,
    stored        TEXT NOT NULL,
    published_by  TEXT,
    published_at  TEXT NOT NULL,
    UNIQUE (template_id, version)
);

-- Consent to patient-experience surveys, recorded at registration; 0 withdraws it (no survey is
-- sent on any channel). Opt-outs of single channels are in survey_optouts.
ALTER TABLE patients ADD COLUMN survey_consent BIGINT NOT NULL DEFAULT 1;

-- One row per completed stage that references a survey: the send decision and its reason, and
-- then the invitation's life. `stage_instance_id` is unique, so a repeated or concurrent stage
-- completion can never decide (or send) twice. `decision` is 'send' or 'skip'; `reason` the
-- skip reason, or 'selected' for a send. `version_id` is NULL only when the template had no
-- published version any more (reason 'survey_unavailable'). Skipped rows have no channel, times or reminders.
-- `reminders` is the JSON list of planned reminder times. Tokens are in survey_tokens (hashes).
CREATE TABLE survey_invitations (
    id                  TEXT PRIMARY KEY,
    hospital_id         TEXT NOT NULL REFERENCES hospitals(id),
    patient_id          TEXT REFERENCES patients(id),
    journey_instance_id TEXT NOT NULL,
    stage_instance_id   TEXT NOT NULL UNIQUE,
    template_id         TEXT NOT NULL REFERENCES survey_templates(id),
    version_id          TEXT REFERENCES survey_versions(id),
    decision            TEXT NOT NULL,
    reason              TEXT NOT NULL,
    channel             TEXT,
    language            TEXT NOT NULL,
    status              TEXT NOT NULL,
    send_at             TEXT,
    expires_at          TEXT,
    reminders           TEXT NOT NULL DEFAULT '[]',
    reminders_sent      BIGINT NOT NULL DEFAULT 0,
    provider_message_id TEXT,
    status_at           TEXT,
    opened_at           TEXT,
    answered_at         TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
-- Recontact window: a patient's invitations by send time.
CREATE INDEX survey_invitations_patient ON survey_invitations (patient_id, send_at);
CREATE INDEX survey_invitations_hospital ON survey_invitations (hospital_id, created_at, id);
CREATE INDEX survey_invitations_created ON survey_invitations (created_at, id);

-- The link tokens sent to the patient: only SHA-256 hashes (hex) of ≥128-bit random tokens. Each
-- message (invitation, reminder, a retried send) carries its own token; every one leads to the
-- same invitation until it is answered or expires.
CREATE TABLE survey_tokens (
    token_hash    TEXT PRIMARY KEY,
    invitation_id TEXT NOT NULL REFERENCES survey_invitations(id),
    created_at    TEXT NOT NULL
);
CREATE INDEX survey_tokens_invitation ON survey_tokens (invitation_id);

-- Messages to send. `idempotency_key` ("<invitation id>:<seq>", seq 0 = the invitation, 1.. the
-- reminders) is unique: planning the same message twice inserts nothing. A dispatcher claims a
-- due row by setting status 'sending' with a lease; a dispatcher killed mid-send leaves the lease
-- to expire and the row is claimed again (see survey outbox module for the exact guarantees).
-- `address_hash` is the SHA-256 of the normalised address the message went to, so an inbound
-- STOP from that address finds its patient without the address being stored twice.
CREATE TABLE survey_outbox (
    id                  TEXT PRIMARY KEY,
    invitation_id       TEXT NOT NULL REFERENCES survey_invitations(id),
    hospital_id         TEXT NOT NULL,
    seq                 BIGINT NOT NULL,
    idempotency_key     TEXT NOT NULL UNIQUE,
    channel             TEXT NOT NULL,
    status              TEXT NOT NULL,
    due_at              TEXT NOT NULL,
    attempts            BIGINT NOT NULL DEFAULT 0,
    lease_until         TEXT,
    claimed_by          TEXT,
    provider            TEXT,
    provider_message_id TEXT,
    address_hash        TEXT,
    last_error          TEXT,
    sent_at             TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX survey_outbox_due ON survey_outbox (due_at, id) WHERE status IN ('pending', 'sending');
CREATE INDEX survey_outbox_invitation ON survey_outbox (invitation_id, seq);
CREATE INDEX survey_outbox_provider_id ON survey_outbox (provider_message_id);
CREATE INDEX survey_outbox_address ON survey_outbox (address_hash);

-- The embedded default "provider": messages handed to it land here, in the same transaction that
-- marks the outbox row sent (exactly once), and the web UI shows them. Nothing leaves the machine.
-- The recipient is stored masked; the link carries the token (it is the message itself).
CREATE TABLE survey_local_outbox (
    id           TEXT PRIMARY KEY,
    outbox_id    TEXT NOT NULL UNIQUE REFERENCES survey_outbox(id),
    hospital_id  TEXT NOT NULL,
    channel      TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    language     TEXT NOT NULL,
    subject      TEXT,
    body         TEXT NOT NULL,
    link         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX survey_local_outbox_hospital ON survey_local_outbox (hospital_id, created_at, id);

-- One response per invitation, saved partially as the patient goes and then submitted. It keeps
-- the version it answered; scores (px360_domain::survey::scoring JSON) and the negative flag are
-- set at submission.
CREATE TABLE survey_responses (
    id               TEXT PRIMARY KEY,
    invitation_id    TEXT NOT NULL UNIQUE REFERENCES survey_invitations(id),
    hospital_id      TEXT NOT NULL,
    template_id      TEXT NOT NULL REFERENCES survey_templates(id),
    version_id       TEXT NOT NULL REFERENCES survey_versions(id),
    version          BIGINT NOT NULL,
    content_hash     TEXT NOT NULL,
    language         TEXT NOT NULL,
    answers          TEXT NOT NULL,
    is_partial       BIGINT NOT NULL,
    scores           TEXT,
    nps_category     TEXT,
    is_negative      BIGINT NOT NULL DEFAULT 0,
    negative_reasons TEXT,
    started_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    submitted_at     TEXT
);
CREATE INDEX survey_responses_hospital ON survey_responses (hospital_id, updated_at, id);
CREATE INDEX survey_responses_updated ON survey_responses (updated_at, id);

-- A patient's opt-out of one channel (a STOP reply, an unsubscribe link, the provider's own
-- opt-out answer, or staff on the patient's request).
CREATE TABLE survey_optouts (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES patients(id),
    hospital_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (patient_id, channel)
);

-- Survey domain events, recorded in the transaction that caused them; the action centre (next
-- issue) consumes them and sets consumed_at.
CREATE TABLE survey_events (
    id            TEXT PRIMARY KEY,
    hospital_id   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    response_id   TEXT NOT NULL REFERENCES survey_responses(id),
    invitation_id TEXT NOT NULL,
    template_id   TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    consumed_at   TEXT,
    UNIQUE (response_id, kind)
);
CREATE INDEX survey_events_hospital ON survey_events (hospital_id, created_at, id);
CREATE INDEX survey_events_unconsumed ON survey_events (created_at) WHERE consumed_at IS NULL;

-- The trigger scan finds completed stages that have no decision yet, by recording time.
CREATE INDEX stage_instances_completed_recorded ON stage_instances (completed_recorded_at)
    WHERE status = 'completed';

-- stage_templates.survey_template_ref was free text; it now holds the id of a survey template
-- (checked by the store on every write: exists, same scope, published, not archived). Existing
-- values are resolved by id or code (with or without a "survey:" prefix); none can resolve here,
-- since survey_templates was created empty above, unless a later seed step adds them. Every value
-- that does not resolve is set to NULL and recorded in survey_ref_migration_notes, so an
-- administrator can see what each stage referred to and attach the real template.
CREATE TABLE survey_ref_migration_notes (
    stage_template_id TEXT PRIMARY KEY REFERENCES stage_templates(id),
    old_ref           TEXT NOT NULL,
    note              TEXT NOT NULL,
    created_at        TEXT NOT NULL
);
UPDATE stage_templates SET survey_template_ref = (
    SELECT st.id FROM survey_templates st
    WHERE st.id = stage_templates.survey_template_ref
       OR st.code = stage_templates.survey_template_ref
       OR 'survey:' || st.code = stage_templates.survey_template_ref
    ORDER BY st.hospital_id IS NULL, st.id LIMIT 1
) WHERE survey_template_ref IS NOT NULL
  AND EXISTS (SELECT 1 FROM survey_templates st
              WHERE st.id = stage_templates.survey_template_ref
                 OR st.code = stage_templates.survey_template_ref
                 OR 'survey:' || st.code = stage_templates.survey_template_ref);
INSERT INTO survey_ref_migration_notes (stage_template_id, old_ref, note, created_at)
SELECT id, survey_template_ref, 'free-text survey reference did not name a survey template; cleared by migration 0010',
       '2026-12-06T00:00:00.000000Z'
FROM stage_templates
WHERE survey_template_ref IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM survey_templates st WHERE st.id = stage_templates.survey_template_ref);
UPDATE stage_templates SET survey_template_ref = NULL
WHERE survey_template_ref IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM survey_templates st WHERE st.id = survey_template_ref);
