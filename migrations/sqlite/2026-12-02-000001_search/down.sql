DROP TRIGGER post_search_rename;
DROP TRIGGER post_search_delete;
DROP TRIGGER post_search_update;
DROP TRIGGER post_search_insert;
DROP TABLE post_search;
DROP VIEW post_search_source;
