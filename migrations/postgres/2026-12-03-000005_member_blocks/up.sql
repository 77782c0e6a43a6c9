-- Members a member blocked (ignores): their posts are collapsed for the blocker, and
-- nothing they do notifies the blocker.
CREATE TABLE member_blocks (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, blocked_id)
);
CREATE INDEX member_blocks_blocked ON member_blocks (blocked_id);
