DROP INDEX topics_by_author;
DROP INDEX posts_by_author;
CREATE INDEX posts_user_id ON posts (user_id);
ALTER TABLE users DROP COLUMN avatar_version;
ALTER TABLE users DROP COLUMN show_name;
