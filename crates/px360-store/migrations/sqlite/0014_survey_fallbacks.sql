-- Channel fallbacks (issue 15): when a channel's address turns out unusable (the provider says
-- the number or mailbox does not exist, or is not on WhatsApp; or the stored address cannot be
-- parsed), the invitation moves to the next allowed channel in the template's preference order.
-- One row per such decision, with its reason; `to_channel` is NULL when no channel was left (the
-- invitation then failed). The same outbox row is re-queued on the new channel, so the message
-- keeps its idempotency key and can never be sent twice. Holds no address.
CREATE TABLE survey_channel_fallbacks (
    id            TEXT PRIMARY KEY,
    invitation_id TEXT NOT NULL REFERENCES survey_invitations(id),
    outbox_id     TEXT NOT NULL REFERENCES survey_outbox(id),
    seq           BIGINT NOT NULL,
    from_channel  TEXT NOT NULL,
    to_channel    TEXT,
    reason        TEXT NOT NULL,
    provider      TEXT NOT NULL,
    code          TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX survey_channel_fallbacks_invitation ON survey_channel_fallbacks (invitation_id, created_at);
