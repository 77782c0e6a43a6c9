-- Two-factor sign-in: a member's authenticator-app secret (RFC 6238), the last time step
-- a code was accepted for (a code works once), and their one-time recovery codes, kept
-- only as hashes. Both go with the account. An admin may require it of staff.
CREATE TABLE two_factor (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    enabled_at BIGINT NOT NULL,
    last_step BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
ALTER TABLE site_settings ADD COLUMN staff_two_factor BOOLEAN NOT NULL DEFAULT 0;
-- Kept on the member's row too, so the session lookup knows it without a query of its own.
ALTER TABLE users ADD COLUMN two_factor_on BOOLEAN NOT NULL DEFAULT 0;
