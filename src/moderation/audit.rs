//! The audit log: who did what to which target, when and why. Append-only: rows are
//! written in the same transaction as the action and no page changes or removes one.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::role::Role;
use crate::auth::visitor::Visitor;
use crate::db::schema::audit_log;
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

/// The newest entries first, 100 a page, before entry `before` when given.
pub fn entries(conn: &mut DbConn, before: Option<i64>) -> Result<Vec<AuditEntry>, DbError> {
    let before = before.unwrap_or(i64::MAX);
    Ok(audit_log::table
        .filter(audit_log::id.lt(before))
        .order(audit_log::id.desc())
        .limit(100)
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

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    visitor: Visitor,
    entries: Vec<AuditEntry>,
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
    let entries = state.db.run(move |c| entries(c, before)).await?;
    render(&AuditPage { visitor, entries })
}
