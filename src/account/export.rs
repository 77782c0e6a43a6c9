//! "Download my data": everything Agora holds about the member, as one JSON
//! document made on request and never stored. The picture is inside, base64-encoded.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::account::store;
use crate::auth::visitor::Visitor;
use crate::db::schema::{
    audit_log, avatars, flags, post_edits, posts, recovery_codes, sessions, topics, two_factor, users,
};
use crate::db::{DbConn, DbError};
use crate::web::errors::AppError;
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account/export", web::get().to(download));
}

type PostRow = (i64, i64, i64, String, String, i64, Option<i64>, String, i64);
type EditRow = (i64, String, i64, String);
type SessionRow = (bool, i64, i64, i64, String, String);

/// Builds the export document for one member.
pub fn export(conn: &mut DbConn, user_id: i64, third_parties: &[String]) -> Result<Option<Value>, DbError> {
    let Some(profile) = crate::auth::accounts::profile(conn, user_id)? else { return Ok(None) };
    let newsletter = crate::privacy::consent::newsletter_events(conn, user_id)?;
    let read = crate::forum::read_state::read_by(conn, user_id)?;
    let flags_filed = store::flags_filed(conn, user_id)?;
    let notifications = crate::forum::notifications::of_member(conn, user_id)?;
    let mentioned_in = crate::forum::mentions::referring(conn, user_id)?;
    let watches = crate::forum::watching::of_member(conn, user_id)?;
    let category_watches = crate::forum::watching::categories_of_member(conn, user_id)?;
    let notification_settings = crate::forum::notification_settings::of_member(conn, user_id)?;
    let mailed = crate::mail::queue::of_member(conn, user_id)?;
    let blocked = crate::forum::blocks::listed(conn, user_id)?;
    let requests = store::privacy_requests_of(conn, user_id)?;
    let standing: (bool, Option<i64>, Option<String>) = users::table
        .find(user_id)
        .select((users::banned, users::suspended_until, users::suspension_reason))
        .first(conn)?;
    let (flags_filed, notifications, requests, standing) = (flags_filed, notifications, requests, standing);
    let posts: Vec<PostRow> = posts::table
        .filter(posts::user_id.eq(user_id))
        .order(posts::id)
        .select((
            posts::id,
            posts::topic_id,
            posts::post_number,
            posts::body_markdown,
            posts::posted_from_ip,
            posts::created_at,
            posts::edited_at,
            posts::body_html,
            posts::like_count,
        ))
        .load(conn)?;
    let edits: Vec<EditRow> = post_edits::table
        .filter(post_edits::user_id.eq(user_id))
        .order(post_edits::id)
        .select((post_edits::post_id, post_edits::previous_markdown, post_edits::edited_at, post_edits::edited_from_ip))
        .load(conn)?;
    let liked = store::likes_given(conn, user_id)?;
    // What moderators did about the member and their posts, and what others flagged on
    // those posts: the reasons are about them. Who acted or flagged is not theirs to know.
    let own_posts: Vec<i64> = posts.iter().map(|p| p.0).collect();
    let moderation: Vec<(String, String, i64, String, i64)> = audit_log::table
        .filter(
            (audit_log::target_type.eq("member").and(audit_log::target_id.eq(user_id)))
                .or(audit_log::target_type.eq("post").and(audit_log::target_id.eq_any(&own_posts))),
        )
        .order(audit_log::id)
        .select((
            audit_log::action,
            audit_log::target_type,
            audit_log::target_id,
            audit_log::reason,
            audit_log::created_at,
        ))
        .load(conn)?;
    let flagged: Vec<(i64, String, String, i64, Option<String>)> = flags::table
        .filter(flags::post_id.eq_any(&own_posts))
        .order(flags::id)
        .select((flags::post_id, flags::reason, flags::details, flags::created_at, flags::outcome))
        .load(conn)?;
    let sessions: Vec<SessionRow> = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .select((
            sessions::persistent,
            sessions::created_at,
            sessions::last_seen_at,
            sessions::expires_at,
            sessions::ip,
            sessions::user_agent,
        ))
        .load(conn)?;
    let picture: Option<(String, Vec<u8>)> =
        avatars::table.find(user_id).select((avatars::content_type, avatars::image)).first(conn).optional()?;
    let topics: Vec<(i64, String, i64)> = topics::table
        .filter(topics::user_id.eq(user_id))
        .order(topics::id)
        .select((topics::id, topics::title, topics::created_at))
        .load(conn)?;
    let (posts, edits, liked, sessions, picture, topics) = (posts, edits, liked, sessions, picture, topics);

    // Two-factor sign-in: that it is on, since when, and the recovery codes' use; never
    // the secret or the codes.
    let two_factor_on: bool = users::table.find(user_id).select(users::two_factor_on).first(conn)?;
    let turned_on_at: Option<i64> =
        two_factor::table.find(user_id).select(two_factor::enabled_at).first(conn).optional()?;
    let codes_used: Vec<Option<i64>> =
        recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)).select(recovery_codes::used_at).load(conn)?;
    let mut sign_in_methods = Vec::new();
    if profile.has_password() {
        sign_in_methods
            .push(json!({"method": "password", "stored_as": "argon2id hash (the hash itself is not exported)"}));
    }
    if let Some(login) = &profile.github_login {
        sign_in_methods.push(json!({"method": "github", "github_id": profile.github_id, "github_login": login}));
    }
    Ok(Some(json!({
        "format": "agora-data-export-1",
        "generated_at": crate::db::now(),
        "timestamps": "Unix seconds (UTC)",
        "profile": {
            "id": profile.id,
            "username": profile.username,
            "first_name": profile.first_name,
            "last_name": profile.last_name,
            "role": profile.role,
            "created_at": profile.created_at,
            "show_name_on_profile": profile.show_name,
            "picture": picture.map(|(content_type, bytes)| json!({
                "content_type": content_type,
                "base64": STANDARD.encode(bytes),
            })),
        },
        "emails": [{
            "address": profile.email,
            "verified": profile.email_verified,
        }],
        "sign_in_methods": sign_in_methods,
        "two_factor": {
            "on": two_factor_on,
            "turned_on_at": turned_on_at,
            "recovery_codes": {
                "count": codes_used.len(),
                "used_at": codes_used.iter().flatten().collect::<Vec<_>>(),
            },
            "stored": "the authenticator app's secret and the recovery codes' hashes (neither is exported)",
        },
        "consents": {
            "at_least_13_confirmed_at": profile.age_confirmed_at,
            "privacy_policy": {"version": profile.policy_version, "accepted_at": profile.policy_accepted_at},
            "newsletter": {"subscribed": profile.newsletter},
            "notification_mail_opted_in": profile.notification_mail,
        },
        "newsletter_events": newsletter.iter().map(|e| json!({
            "subscribed": e.subscribed, "source": e.source, "at": e.created_at,
        })).collect::<Vec<_>>(),
        "sessions": sessions.iter().map(|(persistent, created_at, last_seen_at, expires_at, ip, user_agent)| json!({
            "keep_signed_in": persistent, "created_at": created_at, "last_seen_at": last_seen_at,
            "expires_at": expires_at, "ip": ip, "user_agent": user_agent,
        })).collect::<Vec<_>>(),
        "topics": topics.iter().map(|(id, title, created_at)| json!({
            "id": id, "title": title, "created_at": created_at,
        })).collect::<Vec<_>>(),
        "posts": posts.iter().map(|(id, topic_id, number, markdown, ip, created_at, edited_at, html, like_count)| json!({
            "id": id, "topic_id": topic_id, "number": number, "markdown": markdown, "html": html,
            "posted_from_ip": ip, "created_at": created_at, "edited_at": edited_at, "likes": like_count,
        })).collect::<Vec<_>>(),
        "edits": edits.iter().map(|(post_id, previous, edited_at, ip)| json!({
            "post_id": post_id, "previous_markdown": previous, "edited_at": edited_at, "edited_from_ip": ip,
        })).collect::<Vec<_>>(),
        "standing": {"banned": standing.0, "suspended_until": standing.1, "reason": standing.2},
        "flags_filed": flags_filed.iter().map(|(post_id, reason, details, at, resolved_at, outcome)| json!({
            "post_id": post_id, "reason": reason, "details": details, "at": at,
            "resolved_at": resolved_at, "outcome": outcome,
        })).collect::<Vec<_>>(),
        "notifications": notifications.iter().map(|n| json!({
            "kind": n.kind.as_str(),
            "by": n.actor,
            "topic": n.topic_title,
            "post_id": n.post_id,
            "message": n.message,
            "others": n.others,
            "at": n.created_at,
            "read_at": n.read_at,
        })).collect::<Vec<_>>(),
        "posts_mentioning_or_quoting_you": mentioned_in,
        "topics_watched_or_muted": watches.iter().map(|(topic_id, level)| json!({
            "topic_id": topic_id,
            "level": level.as_str(),
        })).collect::<Vec<_>>(),
        "categories_watched_or_muted": category_watches.iter().map(|(category_id, level)| json!({
            "category_id": category_id,
            "level": level.as_str(),
        })).collect::<Vec<_>>(),
        "notification_settings": {
            "watch_topics_i_start_or_reply_to": notification_settings.watch_own,
            "mail": crate::forum::notification_settings::MAILED_KINDS.iter().map(|&kind| {
                (kind.as_str().to_string(), json!(notification_settings.mail_for(kind).as_str()))
            }).collect::<serde_json::Map<_, _>>(),
            "digest_told_up_to_notification": notification_settings.digest_through,
        },
        "notification_mail": mailed.iter().map(|m| json!({
            "what": m.kind.as_str(), "status": m.status.as_str(), "queued_at": m.created_at,
            "due_at": m.send_after, "attempts": m.attempts, "outcome": m.outcome, "finished_at": m.finished_at,
        })).collect::<Vec<_>>(),
        "members_blocked": blocked.iter().map(|(username, at)| json!({"username": username, "since": at})).collect::<Vec<_>>(),
        "privacy_requests": requests.iter().map(|(email, kind, message, status, refusal, at, note)| json!({
            "email": email, "kind": kind, "message": message, "status": status,
            "refusal_reason": refusal, "created_at": at, "staff_note": note,
        })).collect::<Vec<_>>(),
        "moderation_of_you_and_your_posts": moderation.iter().map(|(action, target, id, reason, at)| json!({
            "action": action, "about": format!("{target} {id}"), "reason": reason, "at": at,
        })).collect::<Vec<_>>(),
        "flags_on_your_posts": flagged.iter().map(|(post_id, reason, details, at, outcome)| json!({
            "post_id": post_id, "reason": reason, "details": details, "at": at, "outcome": outcome,
        })).collect::<Vec<_>>(),
        "likes_given": liked.iter().map(|(post_id, at)| json!({"post_id": post_id, "at": at})).collect::<Vec<_>>(),
        "topics_read": read.topics
            .iter()
            .map(|(topic_id, title, up_to, at)| json!({"topic_id": topic_id, "title": title, "read_up_to_post": up_to, "at": at}))
            .collect::<Vec<_>>(),
        "categories_marked_read": read.categories
            .iter()
            .map(|(category_id, name, at)| json!({"category_id": category_id, "name": name, "marked_read_at": at}))
            .collect::<Vec<_>>(),
        "third_parties": {
            "categories_shared_with": third_parties,
            "note": if third_parties.is_empty() {
                "This forum shares personal information with no third party."
            } else {
                "The categories of third parties this forum shares personal information with."
            },
        },
    })))
}

async fn download(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    let third_parties = state.config.third_parties.clone();
    let document = state.db.run(move |c| export(c, user_id, &third_parties)).await?.ok_or(AppError::NotFound)?;
    let body = serde_json::to_vec_pretty(&document).map_err(|e| AppError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"agora-my-data.json\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
