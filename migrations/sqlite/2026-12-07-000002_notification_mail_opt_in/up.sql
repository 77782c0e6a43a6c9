-- Notification e-mail only by opt-in: a member who never chose gets none (the policy:
-- no informational e-mail without opting in first). Ticked at registration, it gives
-- the usual choices (each kind once they are away an hour); a member's own choices on
-- their notifications page, once saved, decide instead.
ALTER TABLE users ADD COLUMN notification_mail BOOLEAN NOT NULL DEFAULT 0;
