//! The tables, as diesel sees them. Both backends' migrations produce exactly this shape.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        username_key -> Text,
        email -> Nullable<Text>,
        email_verified -> Bool,
        password_hash -> Nullable<Text>,
        role -> Text,
        created_at -> BigInt,
        age_confirmed_at -> Nullable<BigInt>,
        policy_version -> Nullable<Text>,
        policy_accepted_at -> Nullable<BigInt>,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        github_id -> Nullable<BigInt>,
        github_login -> Nullable<Text>,
        newsletter -> Bool,
        banned -> Bool,
        suspended_until -> Nullable<BigInt>,
        suspension_reason -> Nullable<Text>,
        show_name -> Bool,
        avatar_version -> BigInt,
        notification_mail -> Bool,
        two_factor_on -> Bool,
    }
}

diesel::table! {
    avatars (user_id) {
        user_id -> BigInt,
        content_type -> Text,
        image -> Binary,
        updated_at -> BigInt,
    }
}

diesel::table! {
    oauth_states (state) {
        state -> Text,
        pkce_verifier -> Text,
        purpose -> Text,
        user_id -> Nullable<BigInt>,
        next_path -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    github_signups (token_hash) {
        token_hash -> Text,
        github_id -> BigInt,
        github_login -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        email -> Text,
        avatar_type -> Nullable<Text>,
        avatar -> Nullable<Binary>,
        next_path -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        persistent -> Bool,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
        ip -> Text,
        user_agent -> Text,
        reauthenticated_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    categories (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        description -> Text,
        position -> Integer,
        topic_count -> BigInt,
        post_count -> BigInt,
        staff_only_topics -> Bool,
    }
}

diesel::table! {
    topics (id) {
        id -> BigInt,
        category_id -> BigInt,
        user_id -> BigInt,
        title -> Text,
        slug -> Text,
        created_at -> BigInt,
        last_post_at -> BigInt,
        post_count -> BigInt,
        locked -> Bool,
        pinned -> Bool,
        held -> Bool,
        last_poster_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    posts (id) {
        id -> BigInt,
        topic_id -> BigInt,
        post_number -> BigInt,
        user_id -> BigInt,
        body_markdown -> Text,
        body_html -> Text,
        created_at -> BigInt,
        edited_at -> Nullable<BigInt>,
        posted_from_ip -> Text,
        like_count -> BigInt,
        hidden -> Bool,
        deleted_at -> Nullable<BigInt>,
        moderation_reason -> Nullable<Text>,
        held -> Bool,
    }
}

diesel::table! {
    post_edits (id) {
        id -> BigInt,
        post_id -> BigInt,
        user_id -> BigInt,
        previous_markdown -> Text,
        edited_at -> BigInt,
        edited_from_ip -> Text,
    }
}

diesel::table! {
    likes (post_id, user_id) {
        post_id -> BigInt,
        user_id -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        purpose -> Text,
        new_email -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    newsletter_events (id) {
        id -> BigInt,
        user_id -> BigInt,
        subscribed -> Bool,
        source -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    deletion_ledger (id) {
        id -> BigInt,
        user_id -> BigInt,
        erased -> Text,
        reason -> Text,
        erased_at -> BigInt,
    }
}

diesel::table! {
    policy_versions (version) {
        version -> Text,
        markdown -> Text,
        published_at -> BigInt,
        effective_at -> BigInt,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    flags (id) {
        id -> BigInt,
        post_id -> BigInt,
        user_id -> BigInt,
        reason -> Text,
        details -> Text,
        created_at -> BigInt,
        resolved_at -> Nullable<BigInt>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        actor_id -> Nullable<BigInt>,
        topic_id -> Nullable<BigInt>,
        post_id -> Nullable<BigInt>,
        message -> Text,
        others -> BigInt,
        created_at -> BigInt,
        read_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    topic_watches (user_id, topic_id) {
        user_id -> BigInt,
        topic_id -> BigInt,
        level -> Text,
    }
}

diesel::table! {
    post_mentions (post_id, user_id) {
        post_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_id -> BigInt,
        action -> Text,
        target_type -> Text,
        target_id -> BigInt,
        reason -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    privacy_requests (id) {
        id -> BigInt,
        email -> Text,
        user_id -> Nullable<BigInt>,
        kind -> Text,
        message -> Text,
        status -> Text,
        staff_note -> Text,
        refusal_reason -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    rate_limits (bucket) {
        bucket -> Text,
        window_start -> BigInt,
        hits -> BigInt,
    }
}

diesel::table! {
    topic_reads (user_id, topic_id) {
        user_id -> BigInt,
        topic_id -> BigInt,
        last_read_post_number -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    category_reads (user_id, category_id) {
        user_id -> BigInt,
        category_id -> BigInt,
        marked_at -> BigInt,
    }
}

diesel::table! {
    notification_settings (user_id) {
        user_id -> BigInt,
        watch_own -> Bool,
        mail_reply -> Text,
        mail_topic -> Text,
        mail_mention -> Text,
        mail_quote -> Text,
        mail_like -> Text,
        mail_moderation -> Text,
        digest_through -> BigInt,
    }
}

diesel::table! {
    mail_queue (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        notification_id -> Nullable<BigInt>,
        pending_digest -> Nullable<BigInt>,
        created_at -> BigInt,
        send_after -> BigInt,
        claimed_until -> Nullable<BigInt>,
        attempts -> BigInt,
        status -> Text,
        outcome -> Text,
        finished_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    site_settings (id) {
        id -> Integer,
        name -> Text,
        description -> Text,
        contact_email -> Text,
        logo -> Nullable<Binary>,
        logo_type -> Nullable<Text>,
        revision -> BigInt,
        updated_at -> BigInt,
        staff_two_factor -> Bool,
    }
}

diesel::table! {
    two_factor (user_id) {
        user_id -> BigInt,
        secret -> Text,
        enabled_at -> BigInt,
        last_step -> BigInt,
    }
}

diesel::table! {
    recovery_codes (user_id, code_hash) {
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    content_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    member_blocks (user_id, blocked_id) {
        user_id -> BigInt,
        blocked_id -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    category_watches (user_id, category_id) {
        user_id -> BigInt,
        category_id -> BigInt,
        level -> Text,
    }
}

diesel::joinable!(flags -> posts (post_id));
diesel::joinable!(post_mentions -> posts (post_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(two_factor -> users (user_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(newsletter_events -> users (user_id));
diesel::joinable!(avatars -> users (user_id));
diesel::joinable!(topics -> categories (category_id));
diesel::joinable!(topics -> users (user_id));
diesel::joinable!(posts -> topics (topic_id));
diesel::joinable!(posts -> users (user_id));
diesel::joinable!(post_edits -> posts (post_id));
diesel::joinable!(likes -> posts (post_id));
diesel::joinable!(topic_reads -> topics (topic_id));
diesel::joinable!(category_reads -> categories (category_id));

diesel::allow_tables_to_appear_in_same_query!(
    topic_reads,
    category_reads,
    users,
    sessions,
    categories,
    topics,
    posts,
    post_edits,
    likes,
    avatars,
    oauth_states,
    github_signups,
    email_tokens,
    newsletter_events,
    deletion_ledger,
    policy_versions,
    settings,
    flags,
    notifications,
    post_mentions,
    topic_watches,
    notification_settings,
    mail_queue,
    member_blocks,
    category_watches,
    content_version,
    site_settings,
    audit_log,
    privacy_requests,
    two_factor,
    recovery_codes
);
