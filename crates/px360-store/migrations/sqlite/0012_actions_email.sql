-- Issue 16, second part: actions raised automatically (per-hospital creation rules), the email of
-- notifications (claimed with a lease, sent once, in the recipient's language) and the users'
-- preferred language. Same column conventions as 0011.

-- A user's preferred language for what PX360 sends them (en | ar); NULL: English.
ALTER TABLE users ADD COLUMN language TEXT;

-- Email of a notification. `email_status` (0011) is pending | sent | failed | skipped (no
-- address). A worker claims a pending row by setting `email_lease_until` (and counting the
-- attempt); the lease is also the not-before moment of a retry. Only the claimant's lease value
-- can mark the row sent or failed, so a worker whose lease ran out cannot overwrite a newer one.
ALTER TABLE notifications ADD COLUMN email_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN email_lease_until TEXT;
ALTER TABLE notifications ADD COLUMN email_sent_at TEXT;
ALTER TABLE notifications ADD COLUMN email_error TEXT;
ALTER TABLE notifications ADD COLUMN email_provider TEXT;
ALTER TABLE notifications ADD COLUMN email_message_id TEXT;
CREATE INDEX notifications_email_pending ON notifications (created_at) WHERE email_status = 'pending';

-- The embedded default mail "provider" for notifications: what would have been emailed lands
-- here, in the transaction that marks the notification sent (exactly once). Address masked.
CREATE TABLE notification_local_outbox (
    id               TEXT PRIMARY KEY,
    notification_id  TEXT NOT NULL UNIQUE REFERENCES notifications(id),
    user_id          TEXT NOT NULL REFERENCES users(id),
    recipient        TEXT NOT NULL,
    language         TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       TEXT NOT NULL
);
CREATE INDEX notification_local_outbox_user ON notification_local_outbox (user_id, created_at);

-- Per-hospital action creation rules (px360_domain::action::origin::CreationRules as JSON):
-- severity of actions from negative survey responses, which complaint categories/severities
-- raise one, and the owner rule. Absent: the domain's default.
CREATE TABLE action_rules (
    hospital_id  TEXT PRIMARY KEY REFERENCES hospitals(id),
    rules        TEXT NOT NULL,
    updated_by   TEXT REFERENCES users(id),
    updated_at   TEXT NOT NULL
);

-- Which worker consumed a survey event (consumed_at is 0010's), and what it raised.
ALTER TABLE survey_events ADD COLUMN consumed_by TEXT;
ALTER TABLE survey_events ADD COLUMN action_id TEXT;
