-- A number every change to what visitors read moves forward, in the transaction of the
-- change itself (by triggers, so no write path can forget it). Each instance keeps
-- rendered visitor pages keyed by it: a page rendered before a post was hidden, edited
-- or reattributed to Anonymous is never served after that change commits.
CREATE TABLE content_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 1);
CREATE TRIGGER content_version_posts_insert AFTER INSERT ON posts BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_posts_update AFTER UPDATE ON posts BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_posts_delete AFTER DELETE ON posts BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_topics_insert AFTER INSERT ON topics BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_topics_update AFTER UPDATE ON topics BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_topics_delete AFTER DELETE ON topics BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_users_insert AFTER INSERT ON users BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_users_update AFTER UPDATE ON users BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_users_delete AFTER DELETE ON users BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_categories_insert AFTER INSERT ON categories BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_categories_update AFTER UPDATE ON categories BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_categories_delete AFTER DELETE ON categories BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_likes_insert AFTER INSERT ON likes BEGIN UPDATE content_version SET version = version + 1; END;
CREATE TRIGGER content_version_likes_delete AFTER DELETE ON likes BEGIN UPDATE content_version SET version = version + 1; END;
