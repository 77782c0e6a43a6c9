//! The audit log: who did what to which target, when and why. Append-only: rows are
//! written in the same transaction as the action and no page changes or removes one.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::role::Role;
use crate::auth::visitor::Visitor;
use crate::db::schema::{audit_log, categories, posts, topics, users};
use crate::db::{DbConn, DbError};
use crate::privacy::requests::RequestStatus;
use crate::web::errors::AppError;
use crate::web::{filters, render};
use crate::AppState;

crate::text_enum! {
    /// What a member of staff (or the command line) did. Stored as these words, which
    /// the audit page shows.
    pub enum AuditAction {
        DismissFlags => "resolve flags: dismissed, no action taken",
        ResolveFlagsByHiding => "resolve flags: the post was hidden",
        ResolveFlagsByDeleting => "resolve flags: the post was deleted",
        ResolveFlagsBySuspending => "resolve flags: the author was suspended",
        HidePost => "hide post",
        UnhidePost => "unhide post",
        DeletePost => "delete post",
        RestorePost => "restore post",
        ApproveHeldPost => "approve held post",
        DeleteHeldPost => "delete held post",
        DeleteAllPosts => "delete all posts",
        LockTopic => "lock topic",
        UnlockTopic => "unlock topic",
        PinTopic => "pin topic",
        UnpinTopic => "unpin topic",
        MoveTopic => "move topic",
        RenameTopic => "rename topic",
        SuspendMember => "suspend member",
        BanMember => "ban member",
        LiftStanding => "lift suspension or ban",
        SetRoleMember => "set role: member",
        SetRoleModerator => "set role: moderator",
        SetRoleAdmin => "set role: admin",
        EraseAccount => "erase account",
        CreateCategory => "create category",
        UpdateCategory => "update category",
        DeleteCategory => "delete category",
        ReopenPrivacyRequest => "privacy request: open",
        AnswerPrivacyRequest => "privacy request: answered",
        RefusePrivacyRequest => "privacy request: refused",
        UpdateSiteSettings => "update site settings",
        TurnOffTwoFactor => "turn off two-factor sign-in",
        RecoverAccess => "recover access: new address and reset link",
    }
}

impl AuditAction {
    /// Giving a member this role (the system account's role is never given).
    pub fn set_role(role: Role) -> Option<Self> {
        match role {
            Role::Member => Some(AuditAction::SetRoleMember),
            Role::Moderator => Some(AuditAction::SetRoleModerator),
            Role::Admin => Some(AuditAction::SetRoleAdmin),
            Role::System => None,
        }
    }

    /// Moving a privacy request to this status.
    pub fn privacy_request(status: RequestStatus) -> Self {
        match status {
            RequestStatus::Open => AuditAction::ReopenPrivacyRequest,
            RequestStatus::Answered => AuditAction::AnswerPrivacyRequest,
            RequestStatus::Refused => AuditAction::RefusePrivacyRequest,
        }
    }
}

crate::text_enum! {
    /// What an audit row is about; with the target's id it names one thing.
    pub enum AuditTarget {
        Post => "post",
        Topic => "topic",
        Member => "member",
        Category => "category",
        PrivacyRequest => "privacy request",
        /// The forum's own settings (one row: id 1).
        Site => "site",
    }
}

/// Writes an audit row inside the caller's transaction: `$action` is an [`AuditAction`]
/// and `$target_type` an [`AuditTarget`], so no row can name an action that is not one.
#[macro_export]
macro_rules! record_audit {
    ($c:expr, $actor:expr, $action:expr, $target_type:expr, $target_id:expr, $reason:expr, $now:expr) => {
        ::diesel::insert_into($crate::db::schema::audit_log::table)
            .values((
                $crate::db::schema::audit_log::actor_id.eq($actor),
                $crate::db::schema::audit_log::action.eq::<$crate::moderation::audit::AuditAction>($action),
                $crate::db::schema::audit_log::target_type.eq::<$crate::moderation::audit::AuditTarget>($target_type),
                $crate::db::schema::audit_log::target_id.eq($target_id),
                $crate::db::schema::audit_log::reason.eq($reason),
                $crate::db::schema::audit_log::created_at.eq($now),
            ))
            .execute($c)
    };
}

#[derive(Debug, Queryable)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: i64,
    pub action: AuditAction,
    pub target_type: AuditTarget,
    pub target_id: i64,
    pub reason: String,
    pub created_at: i64,
}

/// How many entries a page of the log shows.
pub const ENTRIES_PER_PAGE: i64 = 100;

/// The newest entries first, a page at a time, before entry `before` when given.
pub fn entries(conn: &mut DbConn, before: Option<i64>) -> Result<Vec<AuditEntry>, DbError> {
    let before = before.unwrap_or(i64::MAX);
    Ok(audit_log::table
        .filter(audit_log::id.lt(before))
        .order(audit_log::id.desc())
        .limit(ENTRIES_PER_PAGE)
        .select((
            audit_log::id,
            audit_log::actor_id,
            audit_log::action,
            audit_log::target_type,
            audit_log::target_id,
            audit_log::reason,
            audit_log::created_at,
        ))
        .load(conn)?)
}

/// Someone or something the log names: the words shown and, while it still exists,
/// where it is.
#[derive(Debug)]
pub struct Named {
    pub label: String,
    pub href: Option<String>,
}

impl Named {
    fn linked(label: String, href: String) -> Self {
        Named { label, href: Some(href) }
    }

    fn plain(label: impl Into<String>) -> Self {
        Named { label: label.into(), href: None }
    }
}

/// An audit entry as the log page shows it: the actor and the target by name.
#[derive(Debug)]
pub struct AuditLine {
    pub entry: AuditEntry,
    pub actor: Named,
    pub target: Named,
}

/// The actor id the command line (`agora admin grant`) records.
const COMMAND_LINE: i64 = 0;

/// Names the actors and targets of `entries` with one query per kind of target on the
/// page (members, posts, topics, categories), never one per row. An erased member is
/// Anonymous, as everywhere else on the forum: only their id is left in the log.
pub fn name_entries(conn: &mut DbConn, entries: Vec<AuditEntry>) -> Result<Vec<AuditLine>, DbError> {
    let ids_of = |kind: AuditTarget| -> Vec<i64> {
        let mut ids: Vec<i64> = entries.iter().filter(|e| e.target_type == kind).map(|e| e.target_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut member_ids: Vec<i64> = entries.iter().map(|e| e.actor_id).chain(ids_of(AuditTarget::Member)).collect();
    member_ids.sort_unstable();
    member_ids.dedup();
    let (post_ids, topic_ids, category_ids) =
        (ids_of(AuditTarget::Post), ids_of(AuditTarget::Topic), ids_of(AuditTarget::Category));

    let members: HashMap<i64, String> = if member_ids.is_empty() {
        HashMap::new()
    } else {
        users::table
            .filter(users::id.eq_any(&member_ids))
            .select((users::id, users::username))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect()
    };
    let posts: HashMap<i64, (i64, String, String, i64)> = if post_ids.is_empty() {
        HashMap::new()
    } else {
        posts::table
            .inner_join(topics::table)
            .filter(posts::id.eq_any(&post_ids))
            .select((posts::id, topics::id, topics::slug, topics::title, posts::post_number))
            .load::<(i64, i64, String, String, i64)>(conn)?
            .into_iter()
            .map(|(id, topic, slug, title, number)| (id, (topic, slug, title, number)))
            .collect()
    };
    let topics: HashMap<i64, (String, String)> = if topic_ids.is_empty() {
        HashMap::new()
    } else {
        topics::table
            .filter(topics::id.eq_any(&topic_ids))
            .select((topics::id, topics::slug, topics::title))
            .load::<(i64, String, String)>(conn)?
            .into_iter()
            .map(|(id, slug, title)| (id, (slug, title)))
            .collect()
    };
    let categories: HashMap<i64, (String, String)> = if category_ids.is_empty() {
        HashMap::new()
    } else {
        categories::table
            .filter(categories::id.eq_any(&category_ids))
            .select((categories::id, categories::slug, categories::name))
            .load::<(i64, String, String)>(conn)?
            .into_iter()
            .map(|(id, slug, name)| (id, (slug, name)))
            .collect()
    };

    let member = |id: i64| match members.get(&id) {
        Some(username) => Named::linked(username.clone(), format!("/admin/members/{id}")),
        None if id == COMMAND_LINE => Named::plain("the command line"),
        None => Named::plain("Anonymous"),
    };
    let target = |entry: &AuditEntry| {
        let id = entry.target_id;
        match entry.target_type {
            AuditTarget::Member => member(id),
            AuditTarget::Post => match posts.get(&id) {
                Some((topic, slug, title, number)) => {
                    Named::linked(format!("{title} #{number}"), format!("/t/{topic}/{slug}/{number}"))
                }
                None => Named::plain("a post that is gone"),
            },
            AuditTarget::Topic => match topics.get(&id) {
                Some((slug, title)) => Named::linked(title.clone(), format!("/t/{id}/{slug}")),
                None => Named::plain("a topic that is gone"),
            },
            AuditTarget::Category => match categories.get(&id) {
                Some((slug, name)) => Named::linked(name.clone(), format!("/c/{id}/{slug}")),
                None => Named::plain("a deleted category"),
            },
            AuditTarget::Site => Named::linked("site settings".to_string(), "/admin/settings".to_string()),
            AuditTarget::PrivacyRequest => {
                Named::linked(format!("request #{id}"), format!("/admin/privacy-requests#request-{id}"))
            }
        }
    };
    Ok(entries
        .into_iter()
        .map(|entry| AuditLine { actor: member(entry.actor_id), target: target(&entry), entry })
        .collect())
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    visitor: Visitor,
    lines: Vec<AuditLine>,
    /// Where the next page starts, when there are older entries.
    older: Option<i64>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
}

pub(super) async fn log_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let before = query.before;
    let lines = state.db.run(move |c| entries(c, before).and_then(|entries| name_entries(c, entries))).await?;
    let older = lines.last().filter(|_| lines.len() as i64 == ENTRIES_PER_PAGE).map(|line| line.entry.id);
    render(&AuditPage { visitor, lines, older })
}
