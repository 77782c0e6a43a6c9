-- A category's list now reads pinned and other topics separately; both walk this index
-- (without it, finding the pinned topics scanned the whole category).
DROP INDEX topics_by_activity;
CREATE INDEX topics_by_activity ON topics(category_id, pinned, last_post_at DESC, id DESC);
