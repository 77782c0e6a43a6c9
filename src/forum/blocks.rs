//! Blocking (ignoring) a member (no HTTP here): the blocker sees the blocked member's
//! posts collapsed, and nothing the blocked member does notifies the blocker. The
//! blocked member is not told. Staff cannot be blocked: members must see moderators.

use diesel::prelude::*;

use crate::db::schema::{member_blocks as blocks, users};
use crate::db::{now, DbConn, DbError};

/// The most members one member may block (a bound on the topic page's lookup).
pub const MAX_BLOCKED: i64 = 500;

pub enum Blocked {
    Done,
    /// [`MAX_BLOCKED`] reached.
    TooMany,
}

pub fn block(conn: &mut DbConn, user_id: i64, blocked_id: i64) -> Result<Blocked, DbError> {
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let count: i64 = blocks::table.filter(blocks::user_id.eq(user_id)).count().get_result(conn)?;
        if count >= MAX_BLOCKED {
            return Ok(Blocked::TooMany);
        }
        let row = (blocks::user_id.eq(user_id), blocks::blocked_id.eq(blocked_id), blocks::created_at.eq(now()));
        crate::per_backend!(conn, |c| diesel::insert_into(blocks::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(Blocked::Done)
    })?)
}

/// Ends a block; true when there was one (a ledger entry, by ids only: a restored
/// backup must not block them again).
pub fn unblock(conn: &mut DbConn, user_id: i64, blocked_id: i64) -> Result<bool, DbError> {
    let now = crate::db::now();
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let ended = diesel::delete(blocks::table.find((user_id, blocked_id))).execute(conn)? > 0;
        if ended {
            crate::record_erasure!(conn, user_id, format!("{UNBLOCKED}{blocked_id}"), "changed by member", now)?;
        }
        Ok(ended)
    })?)
}

/// The ledger's name for an unblock: this, then the unblocked member's id.
pub const UNBLOCKED: &str = "block:";

pub fn has_blocked(conn: &mut DbConn, user_id: i64, other: i64) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(blocks::table.find((user_id, other)))).get_result(conn)?)
}

/// Everyone the member blocked (for collapsing their posts): at most [`MAX_BLOCKED`].
pub fn blocked_by(conn: &mut DbConn, user_id: i64) -> Result<Vec<i64>, DbError> {
    Ok(blocks::table.filter(blocks::user_id.eq(user_id)).select(blocks::blocked_id).load(conn)?)
}

/// Which of `members` blocked `actor` (they are not told of what the actor does).
pub fn who_blocked(conn: &mut DbConn, actor: i64, members: &[i64]) -> Result<Vec<i64>, diesel::result::Error> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    blocks::table
        .filter(blocks::blocked_id.eq(actor))
        .filter(blocks::user_id.eq_any(members))
        .select(blocks::user_id)
        .load(conn)
}

/// The members the member blocked, by name, with when (account page and export).
pub fn listed(conn: &mut DbConn, user_id: i64) -> Result<Vec<(String, i64)>, DbError> {
    Ok(blocks::table
        .inner_join(users::table.on(users::id.eq(blocks::blocked_id)))
        .filter(blocks::user_id.eq(user_id))
        .order(users::username_key)
        .select((users::username, blocks::created_at))
        .load(conn)?)
}

/// Deletion: the member's blocks, and others' blocks of them.
pub fn forget(conn: &mut DbConn, user_id: i64) -> Result<(), diesel::result::Error> {
    diesel::delete(blocks::table.filter(blocks::user_id.eq(user_id).or(blocks::blocked_id.eq(user_id))))
        .execute(conn)?;
    Ok(())
}
