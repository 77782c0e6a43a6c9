-- A number every change to what visitors read moves forward, in the transaction of the
-- change itself (by triggers, so no write path can forget it). Each instance keeps
-- rendered visitor pages keyed by it: a page rendered before a post was hidden, edited
-- or reattributed to Anonymous is never served after that change commits.
CREATE TABLE content_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 1);
CREATE FUNCTION bump_content_version() RETURNS trigger AS $$
BEGIN
    UPDATE content_version SET version = version + 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER content_version_posts AFTER INSERT OR UPDATE OR DELETE ON posts FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();
CREATE TRIGGER content_version_topics AFTER INSERT OR UPDATE OR DELETE ON topics FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();
CREATE TRIGGER content_version_users AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();
CREATE TRIGGER content_version_categories AFTER INSERT OR UPDATE OR DELETE ON categories FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();
CREATE TRIGGER content_version_likes AFTER INSERT OR DELETE ON likes FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version();
