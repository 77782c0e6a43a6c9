-- Sign-in with GitHub. The privacy policy names exactly what is kept from GitHub:
-- the picture, user name, first and last name, and the verified e-mail address.
ALTER TABLE users ADD COLUMN first_name TEXT;
ALTER TABLE users ADD COLUMN last_name TEXT;
-- GitHub's numeric id never changes; the login can be renamed.
ALTER TABLE users ADD COLUMN github_id BIGINT;
ALTER TABLE users ADD COLUMN github_login TEXT;
CREATE UNIQUE INDEX users_github_id ON users(github_id);

-- Profile pictures are stored here and served from Agora's own origin.
CREATE TABLE avatars (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    image BLOB NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row per sign-in with GitHub in progress (ten minutes at most): the OAuth state,
-- the PKCE verifier, and what the round trip is for.
CREATE TABLE oauth_states (
    state TEXT PRIMARY KEY,
    pkce_verifier TEXT NOT NULL,
    purpose TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    next_path TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- What GitHub told us about a new member, held (thirty minutes at most) until they
-- tick the age and privacy-policy boxes. No account exists before that.
CREATE TABLE github_signups (
    token_hash TEXT PRIMARY KEY,
    github_id BIGINT NOT NULL,
    github_login TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    email TEXT NOT NULL,
    avatar_type TEXT,
    avatar BLOB,
    next_path TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
