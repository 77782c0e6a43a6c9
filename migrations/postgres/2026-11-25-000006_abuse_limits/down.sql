DROP INDEX posts_held;
ALTER TABLE topics DROP COLUMN held;
ALTER TABLE posts DROP COLUMN held;
DROP TABLE rate_limits;
