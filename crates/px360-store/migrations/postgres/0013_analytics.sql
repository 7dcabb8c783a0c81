-- Analytics (issue 17): daily roll-ups of the survey KPIs, maintained by a scheduler job and
-- rebuilt on demand (px360 analytics rebuild). One row per local day (in the hospital's time
-- zone) and dimension combination; '' stands for "none" in a dimension so the key is a plain
-- primary key on both engines. The headline counters are columns (summed in SQL for a tile);
-- the per-question answer counts are px360_domain::analytics::items::ItemsAcc JSON, merged in
-- Rust for the HCAHPS tables. Response-rate counters count by the invitation's day (a cohort),
-- the answers' KPIs by the day the response was submitted.
CREATE TABLE analytics_daily (
    hospital_id          TEXT NOT NULL,
    day                  TEXT NOT NULL,
    department_id        TEXT NOT NULL DEFAULT '',
    physician_id         TEXT NOT NULL DEFAULT '',
    journey_template_id  TEXT NOT NULL DEFAULT '',
    stage_code           TEXT NOT NULL DEFAULT '',
    channel              TEXT NOT NULL DEFAULT '',
    language             TEXT NOT NULL DEFAULT '',
    invitations          BIGINT NOT NULL DEFAULT 0,
    answered             BIGINT NOT NULL DEFAULT 0,
    responses            BIGINT NOT NULL DEFAULT 0,
    promoters            BIGINT NOT NULL DEFAULT 0,
    passives             BIGINT NOT NULL DEFAULT 0,
    detractors           BIGINT NOT NULL DEFAULT 0,
    csat_satisfied       BIGINT NOT NULL DEFAULT 0,
    csat_total           BIGINT NOT NULL DEFAULT 0,
    items                TEXT NOT NULL DEFAULT '{}',
    -- Survey KPIs over the physician-tagged questions only (SurveyKpis JSON) and their count.
    physician_responses  BIGINT NOT NULL DEFAULT 0,
    physician_kpis       TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (hospital_id, day, department_id, physician_id, journey_template_id, stage_code, channel, language)
);
CREATE INDEX analytics_daily_department ON analytics_daily (hospital_id, department_id, day);
CREATE INDEX analytics_daily_day ON analytics_daily (day, hospital_id);
CREATE INDEX analytics_daily_physician ON analytics_daily (physician_id, day) WHERE physician_id <> '';

-- The roll-up job finds what changed since its watermark (settings 'analytics_watermark').
CREATE INDEX survey_invitations_updated ON survey_invitations (updated_at);
-- The roll-up reads a day's submitted responses of a hospital.
CREATE INDEX survey_responses_submitted ON survey_responses (hospital_id, submitted_at);
-- The physician of a response is the one named by an event of its encounter.
CREATE INDEX inbound_events_encounter ON inbound_events (hospital_id, encounter_id);

-- A physician record may belong to a user account (role Physician sees its own ratings).
ALTER TABLE physicians ADD COLUMN user_id TEXT REFERENCES users(id);
CREATE INDEX physicians_user ON physicians (user_id);
