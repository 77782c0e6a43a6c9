-- Latest across categories: most recent activity first, read through this index with a cursor.
CREATE INDEX topics_latest ON topics (last_post_at DESC, id DESC);
