-- Categories where only moderators and admins start topics (announcements); replies stay open.
ALTER TABLE categories ADD COLUMN staff_only_topics BOOLEAN NOT NULL DEFAULT FALSE;
