-- Notifications: what happened that concerns a member (a reply in their topic, a
-- mention, a quote, likes, a moderator's decision). The moderators' notices become
-- notifications of the kind 'moderation'.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    -- Who did it (NULL for the forum's own notices).
    actor_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    topic_id BIGINT,
    post_id BIGINT,
    -- The words of a moderator's notice; empty for the other kinds.
    message TEXT NOT NULL DEFAULT '',
    -- Likes are grouped: how many others liked the post besides the actor.
    others BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_by_member ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_created ON notifications (created_at);
CREATE INDEX notifications_actor ON notifications (actor_id);
INSERT INTO notifications (user_id, kind, message, created_at, read_at)
    SELECT user_id, 'moderation', message, created_at, read_at FROM notices ORDER BY id;
DROP TABLE notices;

-- The members a post mentions or quotes, resolved when it is saved: the rendered post
-- links them by id, and deleting one of them renders these posts again without the link.
CREATE TABLE post_mentions (
    post_id BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX post_mentions_user ON post_mentions (user_id);
