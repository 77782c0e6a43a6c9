-- How a member follows a topic: 'watching' (told of every reply) or 'muted' (told of
-- nothing in it: no replies, mentions or quotes). No row: the default (told of replies
-- in topics they started, and of mentions and quotes). Replying sets 'watching' unless
-- the member chose otherwise.
CREATE TABLE topic_watches (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    topic_id BIGINT NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    PRIMARY KEY (user_id, topic_id)
);
CREATE INDEX topic_watches_topic ON topic_watches (topic_id);
