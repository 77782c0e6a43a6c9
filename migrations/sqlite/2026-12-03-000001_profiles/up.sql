-- Public profiles (/u/{username}) and pictures beside posts.
-- A member chooses whether their first and last name appear on their profile (off:
-- the policy says names are stored, not published).
ALTER TABLE users ADD COLUMN show_name BOOLEAN NOT NULL DEFAULT FALSE;
-- Bumped whenever the picture changes, so pages can link /avatars/{id}?v={version}
-- and browsers may keep each version for a year.
ALTER TABLE users ADD COLUMN avatar_version BIGINT NOT NULL DEFAULT 0;
-- A profile lists the member's newest posts and topics.
DROP INDEX posts_user_id;
CREATE INDEX posts_by_author ON posts (user_id, id);
CREATE INDEX topics_by_author ON topics (user_id, id);
