-- How far each member has read each topic: the highest post number they have had on a
-- page. One row per member and topic, written only when it moves forward; it goes with
-- the account.
CREATE TABLE topic_reads (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    topic_id BIGINT NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
    last_read_post_number BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, topic_id)
);

-- When a member last marked a whole category read: topics started before then are not
-- "new" to them. "Mark everything read" writes one row per category.
CREATE TABLE category_reads (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    category_id BIGINT NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
    marked_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, category_id)
);

-- /new walks the newest topics back to the member's horizon, and no further.
CREATE INDEX topics_created ON topics (created_at DESC, id DESC);
