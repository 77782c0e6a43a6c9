-- ANALYZE copies sample values of every column into pg_statistic (most common values,
-- histogram bounds): e-mail addresses, names and IPs would sit in a catalog that no
-- erasure reaches. These columns are only ever looked up through unique indexes or by
-- their row, so the planner loses nothing: no statistics are gathered for them, and
-- any gathered before are dropped (altering a column's type to itself removes its
-- pg_statistic row). The daily maintenance rewrites pg_statistic where it may.
ALTER TABLE users
    ALTER COLUMN username SET STATISTICS 0, ALTER COLUMN username TYPE TEXT,
    ALTER COLUMN username_key SET STATISTICS 0, ALTER COLUMN username_key TYPE TEXT,
    ALTER COLUMN email SET STATISTICS 0, ALTER COLUMN email TYPE TEXT,
    ALTER COLUMN password_hash SET STATISTICS 0, ALTER COLUMN password_hash TYPE TEXT,
    ALTER COLUMN first_name SET STATISTICS 0, ALTER COLUMN first_name TYPE TEXT,
    ALTER COLUMN last_name SET STATISTICS 0, ALTER COLUMN last_name TYPE TEXT,
    ALTER COLUMN github_login SET STATISTICS 0, ALTER COLUMN github_login TYPE TEXT,
    ALTER COLUMN suspension_reason SET STATISTICS 0, ALTER COLUMN suspension_reason TYPE TEXT;
ALTER TABLE sessions
    ALTER COLUMN token_hash SET STATISTICS 0, ALTER COLUMN token_hash TYPE TEXT,
    ALTER COLUMN ip SET STATISTICS 0, ALTER COLUMN ip TYPE TEXT,
    ALTER COLUMN user_agent SET STATISTICS 0, ALTER COLUMN user_agent TYPE TEXT;
ALTER TABLE posts
    ALTER COLUMN posted_from_ip SET STATISTICS 0, ALTER COLUMN posted_from_ip TYPE TEXT;
ALTER TABLE post_edits
    ALTER COLUMN previous_markdown SET STATISTICS 0, ALTER COLUMN previous_markdown TYPE TEXT,
    ALTER COLUMN edited_from_ip SET STATISTICS 0, ALTER COLUMN edited_from_ip TYPE TEXT;
ALTER TABLE avatars
    ALTER COLUMN image SET STATISTICS 0, ALTER COLUMN image TYPE BYTEA;
ALTER TABLE github_signups
    ALTER COLUMN github_login SET STATISTICS 0, ALTER COLUMN github_login TYPE TEXT,
    ALTER COLUMN first_name SET STATISTICS 0, ALTER COLUMN first_name TYPE TEXT,
    ALTER COLUMN last_name SET STATISTICS 0, ALTER COLUMN last_name TYPE TEXT,
    ALTER COLUMN email SET STATISTICS 0, ALTER COLUMN email TYPE TEXT,
    ALTER COLUMN avatar SET STATISTICS 0, ALTER COLUMN avatar TYPE BYTEA;
ALTER TABLE email_tokens
    ALTER COLUMN new_email SET STATISTICS 0, ALTER COLUMN new_email TYPE TEXT;
ALTER TABLE flags
    ALTER COLUMN details SET STATISTICS 0, ALTER COLUMN details TYPE TEXT;
ALTER TABLE notifications
    ALTER COLUMN message SET STATISTICS 0, ALTER COLUMN message TYPE TEXT;
ALTER TABLE audit_log
    ALTER COLUMN reason SET STATISTICS 0, ALTER COLUMN reason TYPE TEXT;
ALTER TABLE privacy_requests
    ALTER COLUMN email SET STATISTICS 0, ALTER COLUMN email TYPE TEXT,
    ALTER COLUMN message SET STATISTICS 0, ALTER COLUMN message TYPE TEXT,
    ALTER COLUMN staff_note SET STATISTICS 0, ALTER COLUMN staff_note TYPE TEXT,
    ALTER COLUMN refusal_reason SET STATISTICS 0, ALTER COLUMN refusal_reason TYPE TEXT;
