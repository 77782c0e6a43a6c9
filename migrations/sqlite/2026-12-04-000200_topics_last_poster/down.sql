DROP TRIGGER topics_last_poster_update;
DROP TRIGGER topics_last_poster_insert;
ALTER TABLE topics DROP COLUMN last_poster_id;
