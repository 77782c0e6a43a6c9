//! The registry of personal data: every column of every table, and what it means for
//! a member's privacy. A test walks the live schema of both backends and fails when a
//! column is missing here, so a new column cannot be added without deciding what
//! export and deletion do with it; other tests prove each decision.

/// What deletion of the member's account does to a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDeletion {
    /// The member's rows are deleted.
    RowDeleted,
    /// The value is erased (blanked) in rows that stay.
    Erased,
    /// Public content that stays: its author becomes the shared Anonymous account.
    Reattributed,
    /// Not about the member: nothing to do.
    Kept,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub table: &'static str,
    pub column: &'static str,
    /// Identifies or describes a person, or records what they did.
    pub personal: bool,
    /// In "Download my data".
    pub exported: bool,
    pub on_deletion: OnDeletion,
}

const fn personal(table: &'static str, column: &'static str, exported: bool, on_deletion: OnDeletion) -> Column {
    Column { table, column, personal: true, exported, on_deletion }
}

const fn not_personal(table: &'static str, column: &'static str) -> Column {
    Column { table, column, personal: false, exported: false, on_deletion: OnDeletion::Kept }
}

use OnDeletion::*;

pub const REGISTRY: &[Column] = &[
    // The member.
    not_personal("users", "id"),
    personal("users", "username", true, RowDeleted),
    personal("users", "username_key", false, RowDeleted), // the lower-case copy of username
    personal("users", "email", true, RowDeleted),
    personal("users", "email_verified", true, RowDeleted),
    personal("users", "password_hash", false, RowDeleted), // exported as "a password is set", never the hash
    personal("users", "role", true, RowDeleted),
    personal("users", "created_at", true, RowDeleted),
    personal("users", "age_confirmed_at", true, RowDeleted),
    personal("users", "policy_version", true, RowDeleted),
    personal("users", "policy_accepted_at", true, RowDeleted),
    personal("users", "first_name", true, RowDeleted),
    personal("users", "last_name", true, RowDeleted),
    personal("users", "github_id", true, RowDeleted),
    personal("users", "github_login", true, RowDeleted),
    personal("users", "newsletter", true, RowDeleted),
    personal("users", "banned", true, RowDeleted),
    personal("users", "suspended_until", true, RowDeleted),
    personal("users", "suspension_reason", true, RowDeleted),
    personal("users", "show_name", true, RowDeleted), // "show my name on my profile"
    not_personal("users", "avatar_version"),          // a counter that changes the picture's URL
    personal("users", "notification_mail", true, RowDeleted), // opted in to notification e-mail
    personal("users", "two_factor_on", true, RowDeleted), // signs in with a second step
    // Two-factor sign-in: the authenticator app's secret and the recovery codes (hashed).
    // The export says it is on and how many codes are left, never the secret.
    personal("two_factor", "user_id", false, RowDeleted),
    personal("two_factor", "secret", false, RowDeleted),
    personal("two_factor", "enabled_at", true, RowDeleted),
    personal("two_factor", "last_step", false, RowDeleted),
    personal("recovery_codes", "user_id", false, RowDeleted),
    personal("recovery_codes", "code_hash", false, RowDeleted),
    personal("recovery_codes", "used_at", true, RowDeleted),
    // Sign-in sessions.
    not_personal("sessions", "id"),
    personal("sessions", "token_hash", false, RowDeleted), // a hash of a secret: useless to the member
    personal("sessions", "user_id", false, RowDeleted),
    personal("sessions", "persistent", true, RowDeleted),
    personal("sessions", "created_at", true, RowDeleted),
    personal("sessions", "last_seen_at", true, RowDeleted),
    personal("sessions", "expires_at", true, RowDeleted),
    personal("sessions", "ip", true, RowDeleted),
    personal("sessions", "user_agent", true, RowDeleted),
    personal("sessions", "reauthenticated_at", false, RowDeleted),
    // The forum's structure.
    not_personal("categories", "id"),
    not_personal("categories", "slug"),
    not_personal("categories", "name"),
    not_personal("categories", "description"),
    not_personal("categories", "position"),
    not_personal("categories", "topic_count"),
    not_personal("categories", "post_count"),
    not_personal("categories", "staff_only_topics"),
    // Public content: stays, by Anonymous.
    not_personal("topics", "id"),
    not_personal("topics", "category_id"),
    personal("topics", "user_id", false, Reattributed),
    personal("topics", "title", true, Kept),
    not_personal("topics", "slug"),
    personal("topics", "created_at", true, Kept),
    not_personal("topics", "last_post_at"),
    not_personal("topics", "post_count"),
    not_personal("topics", "locked"),
    not_personal("topics", "pinned"),
    not_personal("topics", "held"),
    // Who wrote the last post: follows the post (a trigger), so a deleted member's last
    // post names Anonymous like the post itself.
    personal("topics", "last_poster_id", false, Reattributed),
    not_personal("posts", "id"),
    not_personal("posts", "topic_id"),
    not_personal("posts", "post_number"),
    personal("posts", "user_id", false, Reattributed),
    personal("posts", "body_markdown", true, Kept),
    personal("posts", "body_html", true, Kept),
    personal("posts", "created_at", true, Kept),
    personal("posts", "edited_at", true, Kept),
    personal("posts", "posted_from_ip", true, Erased),
    not_personal("posts", "like_count"),
    not_personal("posts", "hidden"),
    not_personal("posts", "deleted_at"),
    not_personal("posts", "moderation_reason"),
    not_personal("posts", "held"),
    // The member's edits: earlier wording and where the edit came from.
    not_personal("post_edits", "id"),
    personal("post_edits", "post_id", true, RowDeleted),
    personal("post_edits", "user_id", false, RowDeleted),
    personal("post_edits", "previous_markdown", true, RowDeleted),
    personal("post_edits", "edited_at", true, RowDeleted),
    personal("post_edits", "edited_from_ip", true, RowDeleted),
    // How far the member has read each topic (they read; the forum remembers where).
    personal("topic_reads", "user_id", false, RowDeleted),
    personal("topic_reads", "topic_id", true, RowDeleted),
    personal("topic_reads", "last_read_post_number", true, RowDeleted),
    personal("topic_reads", "updated_at", true, RowDeleted),
    // When the member marked a category read ("mark all as read").
    personal("category_reads", "user_id", false, RowDeleted),
    personal("category_reads", "category_id", true, RowDeleted),
    personal("category_reads", "marked_at", true, RowDeleted),
    personal("likes", "post_id", true, RowDeleted),
    personal("likes", "user_id", false, RowDeleted),
    personal("likes", "created_at", true, RowDeleted),
    // GitHub sign-in.
    personal("avatars", "user_id", false, RowDeleted),
    personal("avatars", "content_type", true, RowDeleted),
    personal("avatars", "image", true, RowDeleted),
    not_personal("avatars", "updated_at"),
    // A round trip to GitHub in progress (ten minutes at most).
    not_personal("oauth_states", "state"),
    not_personal("oauth_states", "pkce_verifier"),
    not_personal("oauth_states", "purpose"),
    personal("oauth_states", "user_id", false, RowDeleted),
    not_personal("oauth_states", "next_path"),
    not_personal("oauth_states", "created_at"),
    // What GitHub said about someone who has not finished joining (thirty minutes at
    // most): no account exists yet, so there is nothing to export it with.
    not_personal("github_signups", "token_hash"),
    personal("github_signups", "github_id", false, RowDeleted),
    personal("github_signups", "github_login", false, RowDeleted),
    personal("github_signups", "first_name", false, RowDeleted),
    personal("github_signups", "last_name", false, RowDeleted),
    personal("github_signups", "email", false, RowDeleted),
    personal("github_signups", "avatar_type", false, RowDeleted),
    personal("github_signups", "avatar", false, RowDeleted),
    not_personal("github_signups", "next_path"),
    not_personal("github_signups", "created_at"),
    // Links sent by e-mail.
    not_personal("email_tokens", "token_hash"),
    personal("email_tokens", "user_id", false, RowDeleted),
    not_personal("email_tokens", "purpose"),
    personal("email_tokens", "new_email", false, RowDeleted), // shown on "Your data" while pending
    not_personal("email_tokens", "created_at"),
    not_personal("email_tokens", "expires_at"),
    not_personal("newsletter_events", "id"),
    personal("newsletter_events", "user_id", false, RowDeleted),
    personal("newsletter_events", "subscribed", true, RowDeleted),
    personal("newsletter_events", "source", true, RowDeleted),
    personal("newsletter_events", "created_at", true, RowDeleted),
    // Flags the member filed.
    not_personal("flags", "id"),
    personal("flags", "post_id", true, RowDeleted),
    personal("flags", "user_id", false, RowDeleted),
    personal("flags", "reason", true, RowDeleted),
    personal("flags", "details", true, RowDeleted),
    personal("flags", "created_at", true, RowDeleted),
    personal("flags", "resolved_at", true, RowDeleted),
    personal("flags", "outcome", true, RowDeleted),
    // Notifications: what happened that concerns the member (replies, mentions, quotes,
    // likes, moderators' decisions). Deleted with the recipient, and with the member
    // whose action caused them (the actor's name is shown, the id is not exported).
    not_personal("notifications", "id"),
    personal("notifications", "user_id", false, RowDeleted),
    personal("notifications", "kind", true, RowDeleted),
    personal("notifications", "actor_id", false, RowDeleted),
    personal("notifications", "topic_id", false, RowDeleted), // exported as the topic's title
    personal("notifications", "post_id", true, RowDeleted),
    personal("notifications", "message", true, RowDeleted),
    personal("notifications", "others", true, RowDeleted),
    personal("notifications", "created_at", true, RowDeleted),
    personal("notifications", "read_at", true, RowDeleted),
    // Which posts mention or quote the member (those posts are rendered again without
    // the link when the member is deleted).
    personal("post_mentions", "post_id", true, RowDeleted),
    personal("post_mentions", "user_id", false, RowDeleted),
    // Topics the member watches or muted.
    personal("topic_watches", "user_id", false, RowDeleted),
    personal("topic_watches", "topic_id", true, RowDeleted),
    personal("topic_watches", "level", true, RowDeleted),
    // Categories the member watches or muted.
    personal("category_watches", "user_id", false, RowDeleted),
    personal("category_watches", "category_id", true, RowDeleted),
    personal("category_watches", "level", true, RowDeleted),
    // The member's choices about being told.
    personal("notification_settings", "user_id", false, RowDeleted),
    personal("notification_settings", "watch_own", true, RowDeleted),
    personal("notification_settings", "mail_reply", true, RowDeleted),
    personal("notification_settings", "mail_topic", true, RowDeleted),
    personal("notification_settings", "mail_mention", true, RowDeleted),
    personal("notification_settings", "mail_quote", true, RowDeleted),
    personal("notification_settings", "mail_like", true, RowDeleted),
    personal("notification_settings", "mail_moderation", true, RowDeleted),
    personal("notification_settings", "digest_through", true, RowDeleted),
    // Mail queued for the member: which notification or digest, never its text (that is
    // written when sent). Finished rows go after the backup retention.
    not_personal("mail_queue", "id"),
    personal("mail_queue", "user_id", false, RowDeleted),
    personal("mail_queue", "kind", true, RowDeleted),
    personal("mail_queue", "notification_id", false, RowDeleted),
    personal("mail_queue", "pending_digest", false, RowDeleted), // the member's id again
    personal("mail_queue", "created_at", true, RowDeleted),
    personal("mail_queue", "send_after", true, RowDeleted),
    personal("mail_queue", "claimed_until", false, RowDeleted), // which instance is sending, for a minute
    personal("mail_queue", "attempts", true, RowDeleted),
    personal("mail_queue", "status", true, RowDeleted),
    personal("mail_queue", "outcome", true, RowDeleted),
    personal("mail_queue", "finished_at", true, RowDeleted),
    // Members the member blocked (exported by name), and who blocked them (not shown to
    // them: a block is not told). Deleted both ways.
    personal("member_blocks", "user_id", false, RowDeleted),
    personal("member_blocks", "blocked_id", false, RowDeleted), // exported as the username
    personal("member_blocks", "created_at", true, RowDeleted),
    // The forum's identity (/admin/settings): the contact address is the one the
    // operator publishes in every page's footer, not a member's.
    not_personal("site_settings", "id"),
    not_personal("site_settings", "name"),
    not_personal("site_settings", "description"),
    not_personal("site_settings", "contact_email"),
    not_personal("site_settings", "logo"),
    not_personal("site_settings", "logo_type"),
    not_personal("site_settings", "revision"),
    not_personal("site_settings", "updated_at"),
    not_personal("site_settings", "staff_two_factor"),
    // The number the visitor page cache is keyed by.
    not_personal("content_version", "id"),
    not_personal("content_version", "version"),
    // Staff actions: about a deleted member, only the account id is kept.
    not_personal("audit_log", "id"),
    not_personal("audit_log", "actor_id"),
    not_personal("audit_log", "action"),
    not_personal("audit_log", "target_type"),
    not_personal("audit_log", "target_id"),
    personal("audit_log", "reason", false, Erased),
    not_personal("audit_log", "created_at"),
    // Requests about personal data: the record stays, who asked and what they wrote go.
    not_personal("privacy_requests", "id"),
    personal("privacy_requests", "email", true, Erased),
    personal("privacy_requests", "user_id", false, Erased),
    personal("privacy_requests", "kind", true, Kept),
    personal("privacy_requests", "message", true, Erased),
    not_personal("privacy_requests", "status"),
    personal("privacy_requests", "staff_note", true, Erased),
    personal("privacy_requests", "refusal_reason", true, Erased),
    personal("privacy_requests", "created_at", true, Kept),
    not_personal("privacy_requests", "updated_at"),
    // Account ids and field names only: what makes erasures survive a restore.
    not_personal("deletion_ledger", "id"),
    not_personal("deletion_ledger", "user_id"),
    not_personal("deletion_ledger", "erased"),
    not_personal("deletion_ledger", "reason"),
    not_personal("deletion_ledger", "erased_at"),
    not_personal("policy_versions", "version"),
    not_personal("policy_versions", "markdown"),
    not_personal("policy_versions", "published_at"),
    not_personal("policy_versions", "effective_at"),
    // Rate-limit counters: the key (an IP, an address, an account id) is stored only as
    // an HMAC with the forum's secret, and every row is purged within two days.
    not_personal("rate_limits", "bucket"),
    not_personal("rate_limits", "window_start"),
    not_personal("rate_limits", "hits"),
    not_personal("settings", "name"),
    not_personal("settings", "value"),
    not_personal("__diesel_schema_migrations", "version"),
    not_personal("__diesel_schema_migrations", "run_on"),
];

/// The search index: each backend's own structures, derived from posts and topic titles
/// (text that stays after a deletion, by Anonymous, as the posts do; no profile field is
/// indexed, and quote headers naming a deleted member are rewritten to Anonymous). SQLite keeps an FTS5 table and its shadow tables, PostgreSQL a
/// `tsvector` column on posts; each list is checked against its own backend.
pub const SEARCH_INDEX: &[Column] = &[
    personal("post_search", "title", false, Kept),
    personal("post_search", "body", false, Kept),
    not_personal("post_search_data", "id"),
    personal("post_search_data", "block", false, Kept),
    not_personal("post_search_idx", "segid"),
    personal("post_search_idx", "term", false, Kept),
    not_personal("post_search_idx", "pgno"),
    not_personal("post_search_docsize", "id"),
    not_personal("post_search_docsize", "sz"),
    not_personal("post_search_config", "k"),
    not_personal("post_search_config", "v"),
    personal("posts", "search_vector", false, Kept),
];

pub fn find(table: &str, column: &str) -> Option<&'static Column> {
    REGISTRY.iter().chain(SEARCH_INDEX).find(|c| c.table == table && c.column == column)
}
