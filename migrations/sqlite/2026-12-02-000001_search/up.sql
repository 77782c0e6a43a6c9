-- Full-text search over post bodies and topic titles (a topic's title is indexed with
-- its first post). FTS5 with the Porter stemmer; the index reads its text from the
-- posts themselves (external content) and triggers keep it in step in the same
-- transaction as every write.
CREATE VIEW post_search_source AS
    SELECT p.id AS id,
           CASE WHEN p.post_number = 1 THEN t.title ELSE '' END AS title,
           p.body_markdown AS body
    FROM posts p JOIN topics t ON t.id = p.topic_id;

CREATE VIRTUAL TABLE post_search USING fts5(
    title, body,
    content = 'post_search_source', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

INSERT INTO post_search(rowid, title, body) SELECT id, title, body FROM post_search_source;

CREATE TRIGGER post_search_insert AFTER INSERT ON posts BEGIN
    INSERT INTO post_search(rowid, title, body) VALUES (
        new.id,
        CASE WHEN new.post_number = 1 THEN (SELECT title FROM topics WHERE id = new.topic_id) ELSE '' END,
        new.body_markdown);
END;

CREATE TRIGGER post_search_update AFTER UPDATE OF body_markdown ON posts BEGIN
    INSERT INTO post_search(post_search, rowid, title, body) VALUES ('delete',
        old.id,
        CASE WHEN old.post_number = 1 THEN (SELECT title FROM topics WHERE id = old.topic_id) ELSE '' END,
        old.body_markdown);
    INSERT INTO post_search(rowid, title, body) VALUES (
        new.id,
        CASE WHEN new.post_number = 1 THEN (SELECT title FROM topics WHERE id = new.topic_id) ELSE '' END,
        new.body_markdown);
END;

CREATE TRIGGER post_search_delete AFTER DELETE ON posts BEGIN
    INSERT INTO post_search(post_search, rowid, title, body) VALUES ('delete',
        old.id,
        CASE WHEN old.post_number = 1 THEN (SELECT title FROM topics WHERE id = old.topic_id) ELSE '' END,
        old.body_markdown);
END;

CREATE TRIGGER post_search_rename AFTER UPDATE OF title ON topics BEGIN
    INSERT INTO post_search(post_search, rowid, title, body)
        SELECT 'delete', p.id, old.title, p.body_markdown FROM posts p WHERE p.topic_id = old.id AND p.post_number = 1;
    INSERT INTO post_search(rowid, title, body)
        SELECT p.id, new.title, p.body_markdown FROM posts p WHERE p.topic_id = new.id AND p.post_number = 1;
END;
