DROP TRIGGER content_version_posts ON posts;
DROP TRIGGER content_version_topics ON topics;
DROP TRIGGER content_version_users ON users;
DROP TRIGGER content_version_categories ON categories;
DROP TRIGGER content_version_likes ON likes;
DROP FUNCTION bump_content_version();
DROP TABLE content_version;
