-- Rate limits: one counter per (limit, key) and fixed window. The key is an HMAC of
-- the IP address, e-mail address or account id with the forum's secret, so the table
-- never holds an address in clear; rows older than a day are purged daily.
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL
);
-- New members' first posts can be held for review: held posts are shown to their
-- author and staff only; a topic whose first post is held is listed for them only.
ALTER TABLE posts ADD COLUMN held BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE topics ADD COLUMN held BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX posts_held ON posts (id) WHERE held;
