//! The audit log: who did what to which target, when and why. Append-only: rows are
//! written in the same transaction as the action and no page changes or removes one.

use diesel::prelude::*;

use crate::db::schema::audit_log;
use crate::db::{DbConn, DbError};

/// Writes an audit row inside the caller's transaction (`$c` is a concrete connection).
#[macro_export]
macro_rules! record_audit {
    ($c:expr, $actor:expr, $action:expr, $target_type:expr, $target_id:expr, $reason:expr, $now:expr) => {
        ::diesel::insert_into($crate::db::schema::audit_log::table)
            .values((
                $crate::db::schema::audit_log::actor_id.eq($actor),
                $crate::db::schema::audit_log::action.eq($action),
                $crate::db::schema::audit_log::target_type.eq($target_type),
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
    pub action: String,
    pub target_type: String,
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

/// A member's notices, newest first, with whether each is unread. Reading changes
/// nothing: they are marked read by a POST (`mark_notices_read`).
pub fn notices_of(conn: &mut DbConn, user_id: i64) -> Result<Vec<(String, i64, bool)>, DbError> {
    use crate::db::schema::notices;
    let list: Vec<(String, i64, Option<i64>)> = notices::table
        .filter(notices::user_id.eq(user_id))
        .order(notices::id.desc())
        .limit(100)
        .select((notices::message, notices::created_at, notices::read_at))
        .load(conn)?;
    Ok(list.into_iter().map(|(m, at, read)| (m, at, read.is_none())).collect())
}

pub fn mark_notices_read(conn: &mut DbConn, user_id: i64) -> Result<usize, DbError> {
    use crate::db::schema::notices;
    let now = crate::db::now();
    Ok(diesel::update(notices::table.filter(notices::user_id.eq(user_id)).filter(notices::read_at.is_null()))
        .set(notices::read_at.eq(Some(now)))
        .execute(conn)?)
}
