-- The privacy flows: e-mail confirmation, password reset, e-mail change, newsletter
-- consent, re-authentication before deletion, the deletion ledger, policy versions.

ALTER TABLE users ADD COLUMN newsletter BOOLEAN NOT NULL DEFAULT 0;
-- Set when the member re-authenticates (password or GitHub) on this session; deletion
-- requires it to be recent.
ALTER TABLE sessions ADD COLUMN reauthenticated_at BIGINT;

-- Single-use links sent by e-mail; only a hash of the token is stored.
CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    new_email TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX email_tokens_user_id ON email_tokens(user_id);

-- Every newsletter choice, with when and where it was made.
CREATE TABLE newsletter_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subscribed BOOLEAN NOT NULL,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX newsletter_events_user_id ON newsletter_events(user_id);

-- Erasures, so that restoring a backup never brings back what was erased. It holds
-- account ids and field names only: nothing that identifies a person.
CREATE TABLE deletion_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL,
    erased TEXT NOT NULL,
    reason TEXT NOT NULL,
    erased_at BIGINT NOT NULL
);

CREATE TABLE policy_versions (
    version TEXT PRIMARY KEY,
    markdown TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    effective_at BIGINT NOT NULL
);

-- Settings shared by every instance, e.g. the key that signs unsubscribe links.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The one shared author of posts whose members deleted their accounts.
INSERT INTO users (username, username_key, role, created_at) VALUES ('Anonymous', 'anonymous', 'system', 0);
