-- Topic lists name who wrote a topic's last post. Kept on the topic (as last_post_at
-- and post_count are), because reading it from the post itself meant reaching past the
-- post's text to its hidden/deleted/held flags: SQLite's overflow pages, which halved
-- the list pages' speed at a million posts. Triggers keep it, so no write path can
-- forget it: the author of post number post_count when anyone may read it, else NULL
-- (a held, hidden or deleted last post names nobody; a deleted member's post names
-- Anonymous, since deletion reattributes the post).
ALTER TABLE topics ADD COLUMN last_poster_id BIGINT;
UPDATE topics SET last_poster_id = (
    SELECT p.user_id FROM posts p
    WHERE p.topic_id = topics.id AND p.post_number = topics.post_count
      AND p.hidden = 0 AND p.deleted_at IS NULL AND p.held = 0
);
CREATE TRIGGER topics_last_poster_insert AFTER INSERT ON posts BEGIN
    UPDATE topics
    SET last_poster_id = CASE WHEN NEW.hidden = 0 AND NEW.deleted_at IS NULL AND NEW.held = 0 THEN NEW.user_id END
    WHERE id = NEW.topic_id AND post_count = NEW.post_number;
END;
CREATE TRIGGER topics_last_poster_update AFTER UPDATE OF user_id, hidden, deleted_at, held ON posts BEGIN
    UPDATE topics
    SET last_poster_id = CASE WHEN NEW.hidden = 0 AND NEW.deleted_at IS NULL AND NEW.held = 0 THEN NEW.user_id END
    WHERE id = NEW.topic_id AND post_count = NEW.post_number;
END;
