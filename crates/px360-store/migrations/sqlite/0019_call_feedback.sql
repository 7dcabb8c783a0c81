-- Feedback taken on a call (issue 18, item 2): the call links the feedback it produced and the
-- feedback names its source call, both ways. One feedback per call: the unique index makes a
-- retried request return the same item instead of a second one.
ALTER TABLE calls ADD COLUMN feedback_id TEXT REFERENCES feedback(id);
ALTER TABLE feedback ADD COLUMN call_id TEXT REFERENCES calls(id);
CREATE UNIQUE INDEX feedback_call ON feedback (call_id) WHERE call_id IS NOT NULL;
