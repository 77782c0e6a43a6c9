-- Full-text search over post bodies and topic titles (a topic's title is indexed with
-- its first post, weighted A; bodies B), with English stemming. The vector is kept by
-- triggers in the same transaction as every write; a GIN index serves the matches,
-- and another on topic titles serves "titles only".
ALTER TABLE posts ADD COLUMN search_vector tsvector;

CREATE FUNCTION post_search_vector(title TEXT, body TEXT) RETURNS tsvector
    LANGUAGE sql IMMUTABLE AS $$
        SELECT setweight(to_tsvector('english', coalesce(title, '')), 'A')
            || setweight(to_tsvector('english', body), 'B')
    $$;

UPDATE posts p SET search_vector = post_search_vector(CASE WHEN p.post_number = 1 THEN t.title END, p.body_markdown)
    FROM topics t WHERE t.id = p.topic_id;

CREATE INDEX posts_search ON posts USING gin (search_vector);
CREATE INDEX topics_title_search ON topics USING gin (to_tsvector('english', title));

CREATE FUNCTION post_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := post_search_vector(
        CASE WHEN NEW.post_number = 1 THEN (SELECT title FROM topics WHERE id = NEW.topic_id) END,
        NEW.body_markdown);
    RETURN NEW;
END
$$;

CREATE TRIGGER post_search_refresh BEFORE INSERT OR UPDATE OF body_markdown ON posts
    FOR EACH ROW EXECUTE FUNCTION post_search_refresh();

CREATE FUNCTION post_search_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts SET search_vector = post_search_vector(NEW.title, body_markdown)
        WHERE topic_id = NEW.id AND post_number = 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER post_search_rename AFTER UPDATE OF title ON topics
    FOR EACH ROW EXECUTE FUNCTION post_search_rename();
