DROP INDEX users_suspended;
DROP INDEX users_banned;
DROP INDEX users_by_role;
