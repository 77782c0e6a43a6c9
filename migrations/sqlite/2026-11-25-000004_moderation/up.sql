-- Moderation: suspensions and bans, hidden and deleted posts, locked and pinned
-- topics, flags, in-app notices, the audit log and the privacy-request queue.

ALTER TABLE users ADD COLUMN banned BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN suspended_until BIGINT;
ALTER TABLE users ADD COLUMN suspension_reason TEXT;

ALTER TABLE posts ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN deleted_at BIGINT;
ALTER TABLE posts ADD COLUMN moderation_reason TEXT;

ALTER TABLE topics ADD COLUMN locked BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE topics ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE flags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id BIGINT NOT NULL REFERENCES posts(id),
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    resolved_at BIGINT,
    outcome TEXT,
    UNIQUE (post_id, user_id)
);
CREATE INDEX flags_open ON flags(resolved_at, created_at);

CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notices_user_id ON notices(user_id, read_at);

-- Append-only: no page updates or deletes a row.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_target ON audit_log(target_type, target_id);

CREATE TABLE privacy_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    staff_note TEXT NOT NULL,
    refusal_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX privacy_requests_status ON privacy_requests(status, created_at);
