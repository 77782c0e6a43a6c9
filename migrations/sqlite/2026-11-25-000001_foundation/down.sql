DROP TABLE likes;
DROP TABLE post_edits;
DROP TABLE posts;
DROP TABLE topics;
DROP TABLE categories;
DROP TABLE sessions;
DROP TABLE users;
