ALTER TABLE categories DROP COLUMN staff_only_topics;
