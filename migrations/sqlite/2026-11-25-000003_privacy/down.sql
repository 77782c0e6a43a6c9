DELETE FROM users WHERE username_key = 'anonymous';
DROP TABLE settings;
DROP TABLE policy_versions;
DROP TABLE deletion_ledger;
DROP TABLE newsletter_events;
DROP TABLE email_tokens;
ALTER TABLE sessions DROP COLUMN reauthenticated_at;
ALTER TABLE users DROP COLUMN newsletter;
