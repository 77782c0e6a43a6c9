DROP INDEX topics_by_activity;
CREATE INDEX topics_by_activity ON topics(category_id, last_post_at DESC, id DESC);
