-- Issue 17 item 5: the weekly analytics report by email. A row means the user receives it
-- (self-service, PUT /api/me/weekly-report). The sending itself is a `notifications` row of
-- kind 'weekly_report' whose dedup_key names the week, so UNIQUE (user_id, dedup_key) of 0011
-- makes it once per user per week, and the notifier's lease makes the email go out once.
CREATE TABLE weekly_report_subscriptions (
    user_id        TEXT PRIMARY KEY REFERENCES users(id),
    subscribed_at  TEXT NOT NULL
);
