-- How a member follows a category: 'watching' (told of every new topic and reply in
-- it) or 'muted' (told of none; mentions and quotes still come). A topic's own level
-- (topic_watches) wins over its category's. Topic levels gain 'tracking': new replies
-- are counted, only mentions and quotes are told.
CREATE TABLE category_watches (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    category_id BIGINT NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    PRIMARY KEY (user_id, category_id)
);
CREATE INDEX category_watches_category ON category_watches (category_id);
