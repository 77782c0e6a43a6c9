-- Topic lists name who wrote a topic's last post. Kept on the topic (as last_post_at
-- and post_count are), so a list reads no post rows. Triggers keep it, so no write path
-- can forget it: the author of post number post_count when anyone may read it, else
-- NULL (a held, hidden or deleted last post names nobody; a deleted member's post names
-- Anonymous, since deletion reattributes the post).
ALTER TABLE topics ADD COLUMN last_poster_id BIGINT;
UPDATE topics SET last_poster_id = p.user_id
FROM posts p
WHERE p.topic_id = topics.id AND p.post_number = topics.post_count
  AND NOT p.hidden AND p.deleted_at IS NULL AND NOT p.held;
-- An UPDATE that changes no row still fires topics' statement triggers (content_version),
-- so the topic is only updated when this is its last post: a bulk insert (seeding,
-- `agora db copy`) would otherwise rewrite the version row once per post.
CREATE FUNCTION set_topic_last_poster() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM topics WHERE id = NEW.topic_id AND post_count = NEW.post_number) THEN
        UPDATE topics
        SET last_poster_id = CASE WHEN NOT NEW.hidden AND NEW.deleted_at IS NULL AND NOT NEW.held THEN NEW.user_id END
        WHERE id = NEW.topic_id AND post_count = NEW.post_number;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER topics_last_poster_insert AFTER INSERT ON posts FOR EACH ROW EXECUTE FUNCTION set_topic_last_poster();
CREATE TRIGGER topics_last_poster_update AFTER UPDATE OF user_id, hidden, deleted_at, held ON posts FOR EACH ROW EXECUTE FUNCTION set_topic_last_poster();
