-- The staff members list, newest first: by role through this index, and the few banned
-- or suspended members through partial ones (the list writes its filters as they are).
CREATE INDEX users_by_role ON users (role, id);
CREATE INDEX users_banned ON users (id) WHERE banned;
CREATE INDEX users_suspended ON users (id) WHERE suspended_until IS NOT NULL;
