DROP TABLE post_mentions;
CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notices_user_id ON notices(user_id, read_at);
INSERT INTO notices (user_id, message, created_at, read_at)
    SELECT user_id, message, created_at, read_at FROM notifications WHERE kind = 'moderation';
DROP TABLE notifications;
