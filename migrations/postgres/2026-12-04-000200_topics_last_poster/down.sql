DROP TRIGGER topics_last_poster_update ON posts;
DROP TRIGGER topics_last_poster_insert ON posts;
DROP FUNCTION set_topic_last_poster();
ALTER TABLE topics DROP COLUMN last_poster_id;
