-- A member's choices about being told: whether replying or starting a topic watches
-- it, and per kind of notification whether it is also e-mailed: 'off', 'away' (each,
-- once the member has not visited for an hour), 'each' or 'digest' (once a day). No
-- row: the defaults (replies, new topics, mentions and quotes 'away'; likes 'off';
-- moderators' decisions 'each').
CREATE TABLE notification_settings (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    watch_own BOOLEAN NOT NULL DEFAULT TRUE,
    mail_reply TEXT NOT NULL DEFAULT 'away',
    mail_topic TEXT NOT NULL DEFAULT 'away',
    mail_mention TEXT NOT NULL DEFAULT 'away',
    mail_quote TEXT NOT NULL DEFAULT 'away',
    mail_like TEXT NOT NULL DEFAULT 'off',
    mail_moderation TEXT NOT NULL DEFAULT 'each',
    -- The newest notification a digest has covered.
    digest_through BIGINT NOT NULL DEFAULT 0
);

-- Mail to send off the request path. A row names what to send (one notification, or a
-- member's digest), never the text: it is rendered when sent, so a post hidden or a
-- member deleted meanwhile is not mailed. Instances claim a row with a conditional
-- UPDATE (claimed_until), so exactly one sends it.
CREATE TABLE mail_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- 'notification' or 'digest'.
    kind TEXT NOT NULL,
    notification_id BIGINT REFERENCES notifications(id) ON DELETE CASCADE,
    -- The member's id while their digest waits: one waiting digest per member.
    pending_digest BIGINT UNIQUE,
    created_at BIGINT NOT NULL,
    send_after BIGINT NOT NULL,
    claimed_until BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    -- 'pending', 'sent', 'skipped' (nothing left to say) or 'failed' (gave up).
    status TEXT NOT NULL DEFAULT 'pending',
    -- Why it failed or was skipped.
    outcome TEXT NOT NULL DEFAULT '',
    finished_at BIGINT
);
CREATE INDEX mail_queue_due ON mail_queue (send_after) WHERE status = 'pending';
CREATE INDEX mail_queue_member ON mail_queue (user_id);
CREATE INDEX mail_queue_finished ON mail_queue (finished_at);
