DROP TRIGGER post_search_rename ON topics;
DROP FUNCTION post_search_rename();
DROP TRIGGER post_search_refresh ON posts;
DROP FUNCTION post_search_refresh();
DROP INDEX topics_title_search;
DROP INDEX posts_search;
DROP FUNCTION post_search_vector(TEXT, TEXT);
ALTER TABLE posts DROP COLUMN search_vector;
