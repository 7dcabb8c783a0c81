-- Issue 18, the patient's voice: general feedback (public QR form, staff, API), social media
-- mentions and reviews (import, signed webhook), and the sentiment and themes of every free
-- text (survey comments, complaints, feedback, mentions, call notes) with the per-hospital rule
-- that turns negative text into a PX action. Same column conventions as 0011: UUID text,
-- fixed-width RFC 3339 UTC text, 0/1 integer flags, JSON as text.

-- Compliments, suggestions and concerns. Contact details and the text are patient data (never
-- logged, never audited). `staff_id` is the employee a compliment names (chosen from the
-- department's list); `staff_name` what the patient typed instead. `status` is new until a
-- coordinator triages it: complaint | action | acknowledged; a compliment is routed to the
-- named staff member's manager (`routed_to`) when it arrives.
CREATE TABLE feedback (
    id             TEXT PRIMARY KEY,
    reference      TEXT NOT NULL UNIQUE,
    hospital_id    TEXT NOT NULL REFERENCES hospitals(id),
    department_id  TEXT REFERENCES departments(id),
    kind           TEXT NOT NULL,
    language       TEXT NOT NULL,
    body           TEXT NOT NULL,
    contact_name   TEXT,
    contact_email  TEXT,
    contact_phone  TEXT,
    staff_id       TEXT REFERENCES employees(id),
    staff_name     TEXT,
    channel        TEXT NOT NULL,
    status         TEXT NOT NULL,
    complaint_id   TEXT REFERENCES complaints(id),
    action_id      TEXT REFERENCES px_actions(id),
    routed_to      TEXT REFERENCES users(id),
    triaged_by     TEXT REFERENCES users(id),
    triaged_at     TEXT,
    created_by     TEXT REFERENCES users(id),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
-- Keyset lists newest first: group, hospital, department (as complaints, 0011).
CREATE INDEX feedback_created ON feedback (created_at, id);
CREATE INDEX feedback_hospital_created ON feedback (hospital_id, created_at, id);
CREATE INDEX feedback_department_created ON feedback (hospital_id, department_id, created_at, id);

-- Per-hospital social listening configuration: account handles and keywords (JSON arrays of
-- strings, matched by px360_domain::social::matching) and the webhook's shared secret (HMAC-SHA256;
-- kept so that signatures can be checked, shown once when generated, never returned again).
CREATE TABLE social_config (
    hospital_id     TEXT PRIMARY KEY REFERENCES hospitals(id),
    handles         TEXT NOT NULL DEFAULT '[]',
    keywords        TEXT NOT NULL DEFAULT '[]',
    webhook_secret  TEXT,
    updated_by      TEXT REFERENCES users(id),
    updated_at      TEXT NOT NULL
);

-- Mentions and reviews. `external_id` is the sender's id of the post, or a hash of its content
-- when it sent none: (source, external_id) is unique, so a re-import or a redelivered webhook
-- stores nothing twice. `location` is the matcher's answer (hospital | ambiguous | unmatched |
-- own_post); `hospital_id` is set for hospital and own_post, NULL otherwise (group level: only
-- the group's PX Admin sees those). `candidates`: the hospitals of an ambiguous mention (JSON).
CREATE TABLE social_mentions (
    id             TEXT PRIMARY KEY,
    source         TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    hospital_id    TEXT REFERENCES hospitals(id),
    location       TEXT NOT NULL,
    candidates     TEXT NOT NULL DEFAULT '[]',
    author_handle  TEXT NOT NULL,
    body           TEXT NOT NULL,
    rating         BIGINT,
    link           TEXT,
    posted_at      TEXT NOT NULL,
    status         TEXT NOT NULL,
    complaint_id   TEXT REFERENCES complaints(id),
    action_id      TEXT REFERENCES px_actions(id),
    received_via   TEXT NOT NULL,
    created_by     TEXT REFERENCES users(id),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX social_mentions_posted ON social_mentions (posted_at, id);
CREATE INDEX social_mentions_hospital_posted ON social_mentions (hospital_id, posted_at, id);

-- Sentiment and themes of one free text (px360-sentiment, in process), stored with its item:
-- `item_kind` survey_comment | complaint | feedback | social_mention | call_note. The score is
-- kept in thousandths (an integer on both engines). `occurred_at` is the item's own time (when
-- the patient wrote it), the axis of "themes over time"; `action_id` the action the sentiment
-- rule raised for it, if any. Holds no text.
CREATE TABLE text_analyses (
    item_kind      TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    hospital_id    TEXT REFERENCES hospitals(id),
    department_id  TEXT,
    language       TEXT NOT NULL,
    sentiment      TEXT NOT NULL,
    score_milli    BIGINT NOT NULL,
    themes         TEXT NOT NULL DEFAULT '',
    occurred_at    TEXT NOT NULL,
    analysed_at    TEXT NOT NULL,
    action_id      TEXT REFERENCES px_actions(id),
    PRIMARY KEY (item_kind, item_id)
);
CREATE INDEX text_analyses_hospital_time ON text_analyses (hospital_id, occurred_at);

-- One row per (item, theme): themes over time is a grouped count over a time range.
CREATE TABLE text_themes (
    item_kind      TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    theme          TEXT NOT NULL,
    hospital_id    TEXT,
    department_id  TEXT,
    sentiment      TEXT NOT NULL,
    occurred_at    TEXT NOT NULL,
    PRIMARY KEY (item_kind, item_id, theme)
);
CREATE INDEX text_themes_time ON text_themes (occurred_at);
CREATE INDEX text_themes_hospital_time ON text_themes (hospital_id, occurred_at);

-- Per-hospital rule turning negative text into a PX action (JSON: enabled, max_score, themes,
-- sources, severity, category_code). Absent: no action is raised.
CREATE TABLE sentiment_rules (
    hospital_id  TEXT PRIMARY KEY REFERENCES hospitals(id),
    rule         TEXT NOT NULL,
    updated_by   TEXT REFERENCES users(id),
    updated_at   TEXT NOT NULL
);
