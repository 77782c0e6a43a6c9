DROP TABLE github_signups;
DROP TABLE oauth_states;
DROP TABLE avatars;
DROP INDEX users_github_id;
ALTER TABLE users DROP COLUMN github_login;
ALTER TABLE users DROP COLUMN github_id;
ALTER TABLE users DROP COLUMN last_name;
ALTER TABLE users DROP COLUMN first_name;
