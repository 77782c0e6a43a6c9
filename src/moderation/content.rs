//! Staff actions on posts (hide, delete, restore, edit history) and topics (lock, pin,
//! move, rename). Staff act on their own content and on that of those they outrank.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::forms::CsrfForm;
use crate::auth::role::Role;
use crate::auth::visitor::Visitor;
use crate::db::schema::{categories, posts, topics, users};
use crate::db::{now, DbConn, DbError};
use crate::forum::domain::{slugify, Title};
use crate::forum::notifications::Kind;
use crate::forum::queries::{self as forum};
use crate::moderation::audit::{AuditAction, AuditTarget};
use crate::moderation::{required_reason, ModError};
use crate::record_audit;
use crate::web::errors::AppError;
use crate::web::{filters, render, see_other};
use crate::AppState;

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    title: String,
    category_id: Option<i64>,
}

pub(super) async fn post_action(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.clone();
    let (post_id, action) = path.into_inner();
    let action = match action.as_str() {
        "hide" => PostAction::Hide,
        "unhide" => PostAction::Unhide,
        "delete" => PostAction::Delete,
        "restore" => PostAction::Restore,
        _ => return Err(AppError::NotFound),
    };
    let reason = required_reason(&form.reason)?;
    state.db.run(move |c| act_on_post(c, staff.user_id, staff.role, post_id, action, &reason)).await?;
    let post = state.db.run(move |c| forum::find_post(c, post_id)).await?.ok_or(AppError::NotFound)?;
    Ok(see_other(&format!("/t/{}/{}/{}", post.topic_id, post.topic_slug, post.post_number)))
}

pub(super) async fn topic_action(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let staff = visitor.staff()?.clone();
    let (topic_id, action) = path.into_inner();
    let action = match action.as_str() {
        "lock" => TopicAction::Lock(true),
        "unlock" => TopicAction::Lock(false),
        "pin" => TopicAction::Pin(true),
        "unpin" => TopicAction::Pin(false),
        "move" => TopicAction::Move(form.category_id.ok_or_else(|| AppError::BadRequest("Choose a category.".into()))?),
        "rename" => {
            let title = Title::parse(&form.title).map_err(AppError::BadRequest)?;
            let slug = slugify(title.as_str());
            TopicAction::Rename(title.as_str().to_string(), slug)
        }
        _ => return Err(AppError::NotFound),
    };
    let reason = required_reason(&form.reason)?;
    state.db.run(move |c| act_on_topic(c, staff.user_id, staff.role, topic_id, action, &reason)).await?;
    Ok(see_other(&format!("/t/{topic_id}")))
}

#[derive(Template)]
#[template(path = "admin/history.html")]
struct HistoryPage {
    visitor: Visitor,
    post_id: i64,
    current: String,
    edits: Vec<EditRecord>,
}

pub(super) async fn post_history(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    visitor.staff()?;
    let post_id = path.into_inner();
    let (post, edits) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let post = forum::find_post(c, post_id)?.ok_or(AppError::NotFound)?;
            Ok((post, edit_history(c, post_id)?))
        })
        .await?;
    render(&HistoryPage { visitor, post_id, current: post.body_markdown, edits })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostAction {
    Hide,
    Unhide,
    Delete,
    Restore,
}

impl PostAction {
    fn audit_action(self) -> AuditAction {
        match self {
            PostAction::Hide => AuditAction::HidePost,
            PostAction::Unhide => AuditAction::UnhidePost,
            PostAction::Delete => AuditAction::DeletePost,
            PostAction::Restore => AuditAction::RestorePost,
        }
    }
}

/// Hides, deletes or restores a post. Moderators act on members' posts; an admin's
/// or another moderator's post needs someone who outranks its author.
pub fn act_on_post(
    conn: &mut DbConn,
    actor: i64,
    actor_role: Role,
    post_id: i64,
    action: PostAction,
    reason: &str,
) -> Result<(), ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let (author, author_role): (i64, Role) = posts::table
            .inner_join(users::table)
            .filter(posts::id.eq(post_id))
            .select((users::id, users::role))
            .first(conn)
            .optional()?
            .ok_or(ModError::NotFound)?;
        may_act_on_content(actor, actor_role, author, author_role, "post")?;
        let target = posts::table.find(post_id);
        let changed = match action {
            PostAction::Hide => diesel::update(target)
                .set((posts::hidden.eq(true), posts::moderation_reason.eq(Some(reason))))
                .execute(conn)?,
            PostAction::Unhide => diesel::update(target)
                .set((posts::hidden.eq(false), posts::moderation_reason.eq(None::<String>)))
                .execute(conn)?,
            PostAction::Delete => diesel::update(target)
                .set((posts::deleted_at.eq(Some(now)), posts::moderation_reason.eq(Some(reason))))
                .execute(conn)?,
            PostAction::Restore => diesel::update(target)
                .set((posts::deleted_at.eq(None::<i64>), posts::moderation_reason.eq(None::<String>)))
                .execute(conn)?,
        };
        if changed == 0 {
            return Err(ModError::NotFound);
        }
        record_audit!(conn, actor, action.audit_action(), AuditTarget::Post, post_id, reason, now)?;
        // The author is told when their post is taken away, and why.
        let told = match action {
            PostAction::Hide => Some("A moderator hid your post"),
            PostAction::Delete => Some("A moderator deleted your post"),
            PostAction::Unhide | PostAction::Restore => None,
        };
        if let Some(told) = told.filter(|_| author != actor && author_role != Role::System) {
            let message = format!("{told}: {reason}");
            crate::forum::notifications::notice(conn, author, Kind::Moderation, &message, Some(post_id))?;
        }
        Ok(())
    })
}

/// Staff act on their own content and on content by those they outrank.
fn may_act_on_content(
    actor: i64,
    actor_role: Role,
    author: i64,
    author_role: Role,
    what: &str,
) -> Result<(), ModError> {
    if author == actor || actor_role.outranks(author_role) {
        return Ok(());
    }
    Err(ModError::Refused(format!(
        "This {what} is by a member of staff: only someone who outranks them can act on it."
    )))
}

#[derive(Debug, Clone)]
pub enum TopicAction {
    Lock(bool),
    Pin(bool),
    Move(i64),
    Rename(String, String),
}

/// Locks, pins, moves or renames a topic; a staff member's topic needs someone who
/// outranks its author, as their posts do.
pub fn act_on_topic(
    conn: &mut DbConn,
    actor: i64,
    actor_role: Role,
    topic_id: i64,
    action: TopicAction,
    reason: &str,
) -> Result<(), ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let (author, author_role): (i64, Role) = topics::table
            .inner_join(users::table)
            .filter(topics::id.eq(topic_id))
            .select((users::id, users::role))
            .first(conn)
            .optional()?
            .ok_or(ModError::NotFound)?;
        may_act_on_content(actor, actor_role, author, author_role, "topic")?;
        let (from_category, post_count): (i64, i64) = topics::table
            .find(topic_id)
            .select((topics::category_id, topics::post_count))
            .first(conn)
            .optional()?
            .ok_or(ModError::NotFound)?;
        let target = topics::table.find(topic_id);
        let name = match &action {
            TopicAction::Lock(on) => {
                diesel::update(target).set(topics::locked.eq(on)).execute(conn)?;
                if *on {
                    AuditAction::LockTopic
                } else {
                    AuditAction::UnlockTopic
                }
            }
            TopicAction::Pin(on) => {
                diesel::update(target).set(topics::pinned.eq(on)).execute(conn)?;
                if *on {
                    AuditAction::PinTopic
                } else {
                    AuditAction::UnpinTopic
                }
            }
            TopicAction::Move(to) => {
                let exists =
                    diesel::select(diesel::dsl::exists(categories::table.find(to))).get_result::<bool>(conn)?;
                if !exists {
                    return Err(ModError::Refused("There is no such category.".into()));
                }
                diesel::update(target).set(topics::category_id.eq(to)).execute(conn)?;
                diesel::update(categories::table.find(from_category))
                    .set((
                        categories::topic_count.eq(categories::topic_count - 1),
                        categories::post_count.eq(categories::post_count - post_count),
                    ))
                    .execute(conn)?;
                diesel::update(categories::table.find(to))
                    .set((
                        categories::topic_count.eq(categories::topic_count + 1),
                        categories::post_count.eq(categories::post_count + post_count),
                    ))
                    .execute(conn)?;
                AuditAction::MoveTopic
            }
            TopicAction::Rename(title, slug) => {
                diesel::update(target).set((topics::title.eq(title), topics::slug.eq(slug))).execute(conn)?;
                AuditAction::RenameTopic
            }
        };
        record_audit!(conn, actor, name, AuditTarget::Topic, topic_id, reason, now)?;
        Ok(())
    })
}

/// One earlier version of a post: what it said, who changed it, when, from where.
#[derive(Debug, Queryable)]
pub struct EditRecord {
    pub previous_markdown: String,
    pub editor: String,
    pub edited_at: i64,
    pub edited_from_ip: String,
}

pub fn edit_history(conn: &mut DbConn, post_id: i64) -> Result<Vec<EditRecord>, DbError> {
    use crate::db::schema::post_edits;
    Ok(post_edits::table
        .inner_join(users::table.on(users::id.eq(post_edits::user_id)))
        .filter(post_edits::post_id.eq(post_id))
        .order(post_edits::id)
        .select((post_edits::previous_markdown, users::username, post_edits::edited_at, post_edits::edited_from_ip))
        .load(conn)?)
}
