-- Timestamps are Unix seconds (BIGINT) and IP addresses canonical text on both
-- backends, so the same queries and the same Rust types serve SQLite and PostgreSQL.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    email TEXT UNIQUE,
    email_verified BOOLEAN NOT NULL DEFAULT 0,
    password_hash TEXT,
    role TEXT NOT NULL DEFAULT 'member',
    created_at BIGINT NOT NULL,
    age_confirmed_at BIGINT,
    policy_version TEXT,
    policy_accepted_at BIGINT
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    persistent BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions(user_id);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    topic_count BIGINT NOT NULL DEFAULT 0,
    post_count BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE topics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category_id BIGINT NOT NULL REFERENCES categories(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    slug TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_post_at BIGINT NOT NULL,
    post_count BIGINT NOT NULL DEFAULT 0
);
-- A category's topic list walks this index newest-activity first (keyset pagination).
CREATE INDEX topics_by_activity ON topics(category_id, last_post_at DESC, id DESC);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic_id BIGINT NOT NULL REFERENCES topics(id),
    post_number BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    edited_at BIGINT,
    posted_from_ip TEXT NOT NULL,
    like_count BIGINT NOT NULL DEFAULT 0,
    UNIQUE (topic_id, post_number)
);
CREATE INDEX posts_user_id ON posts(user_id);

-- One row per edit: what the post said before, who changed it, from where.
CREATE TABLE post_edits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id BIGINT NOT NULL REFERENCES posts(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    previous_markdown TEXT NOT NULL,
    edited_at BIGINT NOT NULL,
    edited_from_ip TEXT NOT NULL
);
CREATE INDEX post_edits_post_id ON post_edits(post_id);
CREATE INDEX post_edits_user_id ON post_edits(user_id);

CREATE TABLE likes (
    post_id BIGINT NOT NULL REFERENCES posts(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX likes_user_id ON likes(user_id);

INSERT INTO categories (slug, name, description, position)
VALUES ('general', 'General', 'Anything about the community.', 0);
