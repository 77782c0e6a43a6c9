-- Two-factor sign-in: a member's authenticator-app secret (RFC 6238), the last time step
-- a code was accepted for (a code works once), and their one-time recovery codes, kept
-- only as hashes. Both go with the account. An admin may require it of staff. As for
-- every personal column, no planner statistics sample them.
CREATE TABLE two_factor (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    enabled_at BIGINT NOT NULL,
    last_step BIGINT NOT NULL DEFAULT 0
);
ALTER TABLE two_factor ALTER COLUMN secret SET STATISTICS 0;
CREATE TABLE recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
ALTER TABLE recovery_codes ALTER COLUMN code_hash SET STATISTICS 0;
ALTER TABLE site_settings ADD COLUMN staff_two_factor BOOLEAN NOT NULL DEFAULT FALSE;
-- Kept on the member's row too, so the session lookup knows it without a query of its own.
ALTER TABLE users ADD COLUMN two_factor_on BOOLEAN NOT NULL DEFAULT FALSE;
