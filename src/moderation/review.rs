//! Spam tools: the review queue for new members' first posts (when the forum holds
//! them, `AGORA_HOLD_FIRST_POSTS`), and removing every post of a spam account at once.
//! Both are audited in the same transaction as the change.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::forms::{CsrfForm, EmptyForm};
use crate::auth::role::Role;
use crate::auth::visitor::Visitor;
use crate::db::schema::{posts, topics, users};
use crate::db::{now, DbConn};
use crate::moderation::audit::{AuditAction, AuditTarget};
use crate::moderation::{required_reason, target_role, ModError};
use crate::record_audit;
use crate::web::errors::AppError;
use crate::web::{filters, render, see_other};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/review", web::get().to(queue))
        .route("/admin/review/{post}/{action}", web::post().to(decide))
        .route("/admin/members/{member}/delete-posts", web::post().to(delete_all_posts));
}

/// How many held posts the queue shows at once, oldest first.
const QUEUE_PAGE: i64 = 50;

#[derive(Debug, Queryable)]
pub struct HeldPost {
    pub id: i64,
    pub post_number: i64,
    pub body_html: String,
    pub created_at: i64,
    pub topic_id: i64,
    pub topic_title: String,
    pub topic_slug: String,
    pub author_id: i64,
    pub author: String,
}

/// The oldest held posts, through the partial index on held posts.
pub fn held_posts(conn: &mut DbConn) -> Result<Vec<HeldPost>, ModError> {
    Ok(posts::table
        .inner_join(topics::table)
        .inner_join(users::table)
        .filter(posts::held.eq(true))
        .order(posts::id)
        .limit(QUEUE_PAGE)
        .select((
            posts::id,
            posts::post_number,
            posts::body_html,
            posts::created_at,
            topics::id,
            topics::title,
            topics::slug,
            users::id,
            users::username,
        ))
        .load(conn)?)
}

/// Lets a held post through (and its topic, when it is the first post), or deletes it.
pub fn review(conn: &mut DbConn, actor: i64, post_id: i64, approve: bool) -> Result<(), ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let (topic_id, number): (i64, i64) = posts::table
            .filter(posts::id.eq(post_id))
            .filter(posts::held.eq(true))
            .select((posts::topic_id, posts::post_number))
            .first(conn)
            .optional()?
            .ok_or(ModError::NotFound)?;
        let post = posts::table.find(post_id);
        if approve {
            diesel::update(post).set(posts::held.eq(false)).execute(conn)?;
            // Now it is there for everyone: the topic is listed, or bumped by the reply.
            let topic = topics::table.find(topic_id);
            if number == 1 {
                diesel::update(topic).set(topics::held.eq(false)).execute(conn)?;
            } else {
                diesel::update(topic).set(topics::last_post_at.eq(now)).execute(conn)?;
            }
            record_audit!(conn, actor, AuditAction::ApproveHeldPost, AuditTarget::Post, post_id, "", now)?;
        } else {
            // Deleted, not only held: the topic of a deleted first post stays unlisted.
            diesel::update(post)
                .set((
                    posts::held.eq(false),
                    posts::deleted_at.eq(Some(now)),
                    posts::moderation_reason.eq(Some("removed in review")),
                ))
                .execute(conn)?;
            record_audit!(
                conn,
                actor,
                AuditAction::DeleteHeldPost,
                AuditTarget::Post,
                post_id,
                "removed in review",
                now
            )?;
        }
        Ok(())
    })
}

/// Deletes (softly, as a moderator's delete does) every post of a member the actor
/// outranks; returns how many. One audit row names the member and the count.
pub fn delete_posts_of(
    conn: &mut DbConn,
    actor: i64,
    actor_role: Role,
    member_id: i64,
    reason: &str,
) -> Result<usize, ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let role = target_role!(conn, member_id)?;
        if !actor_role.outranks(role) {
            return Err(ModError::Refused("Moderators act on members only.".into()));
        }
        let deleted =
            diesel::update(posts::table.filter(posts::user_id.eq(member_id)).filter(posts::deleted_at.is_null()))
                .set((
                    posts::deleted_at.eq(Some(now)),
                    posts::held.eq(false),
                    posts::moderation_reason.eq(Some(reason)),
                ))
                .execute(conn)?;
        let note = format!("{reason} ({deleted} posts)");
        record_audit!(conn, actor, AuditAction::DeleteAllPosts, AuditTarget::Member, member_id, &note, now)?;
        Ok(deleted)
    })
}

#[derive(Template)]
#[template(path = "admin/review.html")]
struct ReviewPage {
    visitor: Visitor,
    held: Vec<HeldPost>,
    hold_first_posts: i64,
}

async fn queue(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let held = state.db.run(|c| held_posts(c).map_err(AppError::from)).await?;
    render(&ReviewPage { visitor, held, hold_first_posts: state.config.hold_first_posts })
}

async fn decide(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.user_id;
    let (post_id, action) = path.into_inner();
    let approve = match action.as_str() {
        "approve" => true,
        "delete" => false,
        _ => return Err(AppError::NotFound),
    };
    state.db.run(move |c| review(c, staff, post_id, approve).map_err(AppError::from)).await?;
    Ok(see_other("/admin/review"))
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn delete_all_posts(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.clone();
    let member_id = path.into_inner();
    let reason = required_reason(&form.reason)?;
    state
        .db
        .run(move |c| delete_posts_of(c, staff.user_id, staff.role, member_id, &reason).map_err(AppError::from))
        .await?;
    Ok(see_other(&format!("/admin/members/{member_id}?done=posts-deleted")))
}
