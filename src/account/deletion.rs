//! Deleting an account: immediate, irreversible, one transaction. Personal data is
//! erased; public posts stay where they are, attributed to the shared Anonymous
//! account, so what remains cannot be grouped back into one person's history.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::forms::CsrfForm;
use crate::auth::sessions::{self, SessionUser};
use crate::auth::visitor::Visitor;
use crate::db::schema::{
    audit_log, avatars, email_tokens, flags, github_signups, likes, newsletter_events, oauth_states, post_edits,
    post_mentions, posts, privacy_requests, topics, users,
};
use crate::db::{now, DbConn, DbError};
use crate::privacy::mails;
use crate::web::errors::AppError;
use crate::web::{filters, render, render_with};
use crate::{record_erasure, AppState};

/// What is left of a deleted account in memory, just long enough to send the notice.
pub struct Deleted {
    pub user_id: i64,
    pub username: String,
    pub email: Option<String>,
}

pub use crate::privacy::ledger::ErasureReason;

/// Deletes an account; the ledger records `reason`'s category. `None` when there is no
/// such member.
pub fn delete_account(conn: &mut DbConn, user_id: i64, reason: ErasureReason) -> Result<Option<Deleted>, DbError> {
    let reason = reason.as_str();
    let now = now();
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let found = users::table
            .find(user_id)
            .filter(users::role.ne(crate::auth::role::Role::System))
            .select((users::username, users::email, users::github_id))
            .first::<(String, Option<String>, Option<i64>)>(conn)
            .optional()?;
        let Some((username, email, github_id)) = found else { return Ok(None) };
        let anonymous: i64 = users::table.filter(users::username_key.eq("anonymous")).select(users::id).first(conn)?;

        // What they wrote, noted before it is re-attributed (for the audit clean-up below).
        let their_posts: Vec<i64> = posts::table.filter(posts::user_id.eq(user_id)).select(posts::id).load(conn)?;
        let their_topics: Vec<i64> = topics::table.filter(topics::user_id.eq(user_id)).select(topics::id).load(conn)?;

        // Likes they gave disappear, and the counts with them.
        let liked = likes::table.filter(likes::user_id.eq(user_id)).select(likes::post_id);
        diesel::update(posts::table.filter(posts::id.eq_any(liked)))
            .set(posts::like_count.eq(posts::like_count - 1))
            .execute(conn)?;
        diesel::delete(likes::table.filter(likes::user_id.eq(user_id))).execute(conn)?;

        // Public posts and topics stay, now by Anonymous, without the IPs they came from.
        // Staff's reasons for hiding or deleting them are about the member: they go too.
        diesel::update(posts::table.filter(posts::user_id.eq(user_id)))
            .set((
                posts::user_id.eq(anonymous),
                posts::posted_from_ip.eq(""),
                posts::moderation_reason.eq(None::<String>),
            ))
            .execute(conn)?;
        diesel::update(topics::table.filter(topics::user_id.eq(user_id)))
            .set(topics::user_id.eq(anonymous))
            .execute(conn)?;
        // Posts that mention or quote them are rendered again once they are gone.
        let referring = crate::forum::mentions::referring(conn, user_id)?;
        // Their edit history (earlier wording, IPs) goes.
        diesel::delete(post_edits::table.filter(post_edits::user_id.eq(user_id))).execute(conn)?;

        // A GitHub sign-up they began and did not finish: by the GitHub account linked
        // now, or (one they unlinked) by their address, which GitHub gave it.
        diesel::delete(github_signups::table.filter(
            github_signups::github_id.nullable().eq(github_id).or(github_signups::email.nullable().eq(&email)),
        ))
        .execute(conn)?;
        diesel::delete(crate::db::schema::sessions::table.filter(crate::db::schema::sessions::user_id.eq(user_id)))
            .execute(conn)?;
        diesel::delete(email_tokens::table.filter(email_tokens::user_id.eq(user_id))).execute(conn)?;
        diesel::delete(oauth_states::table.filter(oauth_states::user_id.eq(user_id))).execute(conn)?;
        diesel::delete(newsletter_events::table.filter(newsletter_events::user_id.eq(user_id))).execute(conn)?;
        diesel::delete(avatars::table.filter(avatars::user_id.eq(user_id))).execute(conn)?;
        crate::forum::read_state::forget(conn, user_id)?;
        diesel::delete(flags::table.filter(flags::user_id.eq(user_id))).execute(conn)?;
        // What others wrote when flagging their posts is about them too.
        diesel::update(flags::table.filter(flags::post_id.eq_any(&their_posts)))
            .set(flags::details.eq(""))
            .execute(conn)?;
        crate::forum::notifications::forget(conn, user_id)?;
        crate::forum::watching::forget(conn, user_id)?;
        crate::forum::notification_settings::forget(conn, user_id)?;
        crate::forum::blocks::forget(conn, user_id)?;
        crate::mail::queue::forget(conn, user_id)?;
        diesel::delete(post_mentions::table.filter(post_mentions::user_id.eq(user_id))).execute(conn)?;
        // Staff records about them, their posts, topics and requests keep only the ids.
        let their_request_ids: Vec<i64> = privacy_requests::table
            .filter(privacy_requests::user_id.eq(Some(user_id)))
            .select(privacy_requests::id)
            .load(conn)?;
        let about_them = [
            ("member", vec![user_id]),
            ("post", their_posts),
            ("topic", their_topics),
            ("privacy request", their_request_ids),
        ];
        for (target_type, ids) in about_them {
            diesel::update(
                audit_log::table
                    .filter(audit_log::target_type.eq(target_type))
                    .filter(audit_log::target_id.eq_any(ids)),
            )
            .set(audit_log::reason.eq(""))
            .execute(conn)?;
        }
        diesel::update(privacy_requests::table.filter(privacy_requests::user_id.eq(Some(user_id))))
            .set((
                privacy_requests::email.eq(""),
                privacy_requests::message.eq(""),
                privacy_requests::staff_note.eq(""),
                privacy_requests::refusal_reason.eq(None::<String>),
                privacy_requests::user_id.eq(None::<i64>),
            ))
            .execute(conn)?;
        record_erasure!(conn, user_id, "account", reason, now)?;
        diesel::delete(users::table.find(user_id)).execute(conn)?;
        crate::forum::mentions::render_again(conn, &referring, &username)?;
        Ok(Some(Deleted { user_id, username, email }))
    })?)
}

/// Deletes, then does what follows every deletion (`after_deletion`).
pub async fn delete_and_notify(state: &AppState, user_id: i64, reason: ErasureReason) -> Result<bool, AppError> {
    let deleted = state.db.run(move |c| delete_account(c, user_id, reason)).await?;
    let Some(deleted) = deleted else { return Ok(false) };
    after_deletion(state, deleted).await;
    Ok(true)
}

/// Brings the copies in line (ledger, write-ahead log, their mail files), then sends the
/// notice to the address captured before it was erased: the only mail left about them,
/// gone with the mail folder's retention.
pub async fn after_deletion(state: &AppState, deleted: Deleted) {
    crate::privacy::erasure::settle_async(
        state,
        Some((deleted.email.clone(), Some(deleted.username.clone()), Some(deleted.user_id))),
    )
    .await;
    if let Some(email) = &deleted.email {
        state.mailer.send_or_log(mails::account_deleted(email, &deleted.username)).await;
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account/delete", web::get().to(delete_form)).route("/account/delete", web::post().to(delete));
}

#[derive(Template)]
#[template(path = "account/delete.html")]
struct DeletePage {
    visitor: Visitor,
    username: String,
    has_password: bool,
    github_confirmed: bool,
    errors: Vec<String>,
}

/// The member's profile and when this session last re-proved who they are.
async fn profile_and_proof(
    state: &AppState,
    member: &SessionUser,
) -> Result<(crate::auth::accounts::Profile, Option<i64>), AppError> {
    let (user_id, session_id) = (member.user_id, member.session_id);
    state
        .db
        .run(move |c| -> Result<_, AppError> {
            let profile = crate::auth::accounts::profile(c, user_id)?.ok_or(AppError::NotFound)?;
            Ok((profile, sessions::reauthenticated_at(c, session_id)?))
        })
        .await
}

async fn page(state: &AppState, visitor: Visitor, errors: Vec<String>) -> Result<HttpResponse, AppError> {
    let member = visitor.member()?.clone();
    let (profile, reauthenticated_at) = profile_and_proof(state, &member).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = DeletePage {
        visitor,
        username: profile.username.clone(),
        has_password: profile.has_password(),
        github_confirmed: crate::auth::proof::recently_reauthenticated(reauthenticated_at),
        errors,
    };
    render_with(status, &page)
}

async fn delete_form(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    page(&state, visitor, Vec::new()).await
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm_username: String,
}

async fn delete(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let member = visitor.member()?.clone();
    let (profile, _) = profile_and_proof(&state, &member).await?;
    // The username first: a password is checked (and guesses counted) only on a real attempt.
    if form.confirm_username.trim() != profile.username {
        return page(&state, visitor, vec!["Type your username exactly as shown to confirm.".to_string()]).await;
    }
    if let Some(message) =
        crate::auth::proof::proof_of_identity(&state, &member, form.password, "delete your account").await?
    {
        return page(&state, visitor, vec![message]).await;
    }
    delete_and_notify(&state, member.user_id, ErasureReason::SelfService).await?;
    Ok(crate::auth::routes::signed_out(&state, "/account/deleted"))
}

#[derive(Template)]
#[template(path = "account/deleted.html")]
struct DeletedPage {
    visitor: Visitor,
}

pub async fn deleted_page(visitor: Visitor) -> Result<HttpResponse, AppError> {
    render(&DeletedPage { visitor })
}
