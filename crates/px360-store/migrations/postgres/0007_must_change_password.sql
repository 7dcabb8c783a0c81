-- An administrator's password reset: the account must choose its own password at its next
-- sign-in (web UI: only /ui/account until then; API: only /api/me and /api/auth/* until then).
-- A 0/1 flag like users.is_active.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
