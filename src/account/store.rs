//! A member's own data: what the account page shows and the changes it makes
//! (no HTTP here). Removing a value removes it from the database and the ledger
//! notes it, so backups cannot bring it back.

use diesel::prelude::*;

use crate::auth::domain::Username;
use crate::db::schema::{avatars, flags, likes, post_edits, posts, privacy_requests, sessions, users};
use crate::db::{now, DbConn, DbError};
use crate::record_erasure;

#[derive(Debug, Queryable)]
pub struct SessionRow {
    pub id: i64,
    pub persistent: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    pub user_agent: String,
}

pub fn sessions_of(conn: &mut DbConn, user_id: i64) -> Result<Vec<SessionRow>, DbError> {
    let now = now();
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(now))
        .order(sessions::last_seen_at.desc())
        .select((
            sessions::id,
            sessions::persistent,
            sessions::created_at,
            sessions::last_seen_at,
            sessions::ip,
            sessions::user_agent,
        ))
        .load(conn)?)
}

/// Ends one of the member's sessions (never someone else's).
pub fn end_session(conn: &mut DbConn, user_id: i64, session_id: i64) -> Result<bool, DbError> {
    let deleted =
        diesel::delete(sessions::table.filter(sessions::id.eq(session_id)).filter(sessions::user_id.eq(user_id)))
            .execute(conn)?;
    Ok(deleted == 1)
}

/// Ends every session of the member but `keep`.
pub fn end_other_sessions(conn: &mut DbConn, user_id: i64, keep: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::id.ne(keep)))
        .execute(conn)?)
}

/// After a password reset proves control of an address that was never confirmed, the
/// address counts as confirmed and any GitHub link made before that proof is removed.
pub fn take_back_unverified_account(conn: &mut DbConn, user_id: i64) -> Result<(), DbError> {
    let verified: bool = users::table.find(user_id).select(users::email_verified).first(conn)?;
    if !verified {
        diesel::update(users::table.find(user_id))
            .set((
                users::email_verified.eq(true),
                users::github_id.eq(None::<i64>),
                users::github_login.eq(None::<String>),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Ends every session of the member.
pub fn end_all_sessions(conn: &mut DbConn, user_id: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?)
}

/// An address the member's posts or edits came from, how often, and when last.
#[derive(Debug, Queryable)]
pub struct RecordedIp {
    pub ip: String,
    pub times: i64,
    pub last_at: Option<i64>,
}

pub fn recorded_ips(conn: &mut DbConn, user_id: i64) -> Result<Vec<RecordedIp>, DbError> {
    use diesel::dsl::{count_star, max};
    let from_posts = posts::table
        .filter(posts::user_id.eq(user_id))
        .group_by(posts::posted_from_ip)
        .select((posts::posted_from_ip, count_star(), max(posts::created_at)))
        .load(conn)?;
    let from_edits = post_edits::table
        .filter(post_edits::user_id.eq(user_id))
        .group_by(post_edits::edited_from_ip)
        .select((post_edits::edited_from_ip, count_star(), max(post_edits::edited_at)))
        .load(conn)?;
    let (mut from_posts, from_edits): (Vec<RecordedIp>, Vec<RecordedIp>) = (from_posts, from_edits);
    for edit in from_edits {
        match from_posts.iter_mut().find(|r| r.ip == edit.ip) {
            Some(row) => {
                row.times += edit.times;
                row.last_at = row.last_at.max(edit.last_at);
            }
            None => from_posts.push(edit),
        }
    }
    from_posts.sort_by_key(|r| std::cmp::Reverse(r.last_at));
    Ok(from_posts)
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("username taken")]
    UsernameTaken,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ProfileError {
    fn from(e: diesel::result::Error) -> Self {
        ProfileError::Db(e.into())
    }
}

/// Saves username and names. A name left empty is removed (NULL), and the ledger
/// notes every value that was removed or replaced.
pub fn update_profile(
    conn: &mut DbConn,
    user_id: i64,
    username: &Username,
    first_name: Option<&str>,
    last_name: Option<&str>,
) -> Result<(), ProfileError> {
    let now = now();
    let key = username.key();
    let result = conn.write_transaction::<_, ProfileError, _>(|conn| {
        let (old_key, old_first, old_last): (String, Option<String>, Option<String>) = users::table
            .find(user_id)
            .select((users::username_key, users::first_name, users::last_name))
            .first(conn)?;
        if old_key != key {
            if crate::auth::accounts::username_taken(conn, &key)? {
                return Err(ProfileError::UsernameTaken);
            }
            record_erasure!(conn, user_id, "username", "changed by member", now)?;
        }
        if old_first.is_some() && old_first.as_deref() != first_name {
            record_erasure!(conn, user_id, "first_name", "changed by member", now)?;
        }
        if old_last.is_some() && old_last.as_deref() != last_name {
            record_erasure!(conn, user_id, "last_name", "changed by member", now)?;
        }
        diesel::update(users::table.find(user_id))
            .set((
                users::username.eq(username.as_str()),
                users::username_key.eq(&key),
                users::first_name.eq(first_name),
                users::last_name.eq(last_name),
            ))
            .execute(conn)?;
        if old_key != key {
            // The generated picture shows the name's first letter.
            crate::auth::accounts::picture_changed(conn, user_id)?;
        }
        Ok(())
    });
    match result {
        Err(ProfileError::Db(e)) if e.is_unique_violation() => Err(ProfileError::UsernameTaken),
        other => other,
    }
}

/// Shows or hides the member's names on their profile; true when that hid them (a
/// ledger entry: a restored backup must not publish them again).
pub fn set_show_name(conn: &mut DbConn, user_id: i64, show: bool) -> Result<bool, DbError> {
    let now = now();
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let was_shown: bool = users::table.find(user_id).select(users::show_name).first(conn)?;
        diesel::update(users::table.find(user_id)).set(users::show_name.eq(show)).execute(conn)?;
        let hidden = was_shown && !show;
        if hidden {
            record_erasure!(conn, user_id, "show_name", "changed by member", now)?;
        }
        Ok(hidden)
    })?)
}

/// Removes the stored picture; the member gets the generated one.
pub fn remove_picture(conn: &mut DbConn, user_id: i64) -> Result<(), DbError> {
    let now = now();
    conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        if diesel::delete(avatars::table.find(user_id)).execute(conn)? > 0 {
            crate::auth::accounts::picture_changed(conn, user_id)?;
            record_erasure!(conn, user_id, "avatar", "removed by member", now)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Sets a new password hash; any pending reset link stops working, and the ledger
/// notes the change so a restored backup cannot bring the old password back.
pub fn set_password_hash(conn: &mut DbConn, user_id: i64, hash: &str) -> Result<(), DbError> {
    let now = now();
    conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::update(users::table.find(user_id)).set(users::password_hash.eq(hash)).execute(conn)?;
        record_erasure!(conn, user_id, "password", "changed by member", now)?;
        Ok(())
    })?;
    crate::privacy::tokens::revoke(conn, user_id, &[crate::privacy::tokens::Purpose::ResetPassword])?;
    Ok(())
}

/// Marks the member's current address as confirmed.
pub fn confirm_email(conn: &mut DbConn, user_id: i64) -> Result<(), DbError> {
    diesel::update(users::table.find(user_id)).set(users::email_verified.eq(true)).execute(conn)?;
    Ok(())
}

/// Switches to a confirmed new address; the old one is noted in the ledger.
/// `false` when another member took the address in the meantime.
pub fn change_email(conn: &mut DbConn, user_id: i64, new_email: &str) -> Result<bool, DbError> {
    let now = now();
    let changed = conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let taken = diesel::select(diesel::dsl::exists(
            users::table.filter(users::email.eq(new_email)).filter(users::id.ne(user_id)),
        ))
        .get_result::<bool>(conn)?;
        if taken {
            return Ok(false);
        }
        record_erasure!(conn, user_id, "email", "changed by member", now)?;
        diesel::update(users::table.find(user_id))
            .set((users::email.eq(new_email), users::email_verified.eq(true)))
            .execute(conn)?;
        Ok(true)
    });
    match changed {
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        other => Ok(other?),
    }
}

/// The member with this address, for password resets.
pub fn member_by_email(conn: &mut DbConn, email: &str) -> Result<Option<(i64, String)>, DbError> {
    Ok(users::table.filter(users::email.eq(email)).select((users::id, users::username)).first(conn).optional()?)
}

/// The member with this username (any case), for the operator's commands.
pub fn member_by_username(conn: &mut DbConn, username: &str) -> Result<Option<i64>, DbError> {
    let key = username.trim().to_ascii_lowercase();
    Ok(users::table
        .filter(users::username_key.eq(&key))
        .filter(users::role.ne(crate::auth::role::Role::System))
        .select(users::id)
        .first(conn)
        .optional()?)
}

/// A flag the member filed: post, reason, details, when, when resolved, outcome.
pub type FlagRow = (i64, String, String, i64, Option<i64>, Option<String>);

/// The flags the member filed, oldest first.
pub fn flags_filed(conn: &mut DbConn, user_id: i64) -> Result<Vec<FlagRow>, DbError> {
    Ok(flags::table
        .filter(flags::user_id.eq(user_id))
        .order(flags::id)
        .select((flags::post_id, flags::reason, flags::details, flags::created_at, flags::resolved_at, flags::outcome))
        .load(conn)?)
}

/// A privacy request: address, kind, message, status, refusal reason, when, and the
/// note the staff kept on it.
pub type RequestRow = (String, String, String, String, Option<String>, i64, String);

/// The member's privacy requests: filed while signed in, or under an address once it
/// was confirmed as theirs (a typed address proves nothing).
pub fn privacy_requests_of(conn: &mut DbConn, user_id: i64) -> Result<Vec<RequestRow>, DbError> {
    Ok(privacy_requests::table
        .filter(privacy_requests::user_id.eq(Some(user_id)))
        .order(privacy_requests::id)
        .select((
            privacy_requests::email,
            privacy_requests::kind,
            privacy_requests::message,
            privacy_requests::status,
            privacy_requests::refusal_reason,
            privacy_requests::created_at,
            privacy_requests::staff_note,
        ))
        .load(conn)?)
}

/// The posts the member likes, with when, oldest first.
pub fn likes_given(conn: &mut DbConn, user_id: i64) -> Result<Vec<(i64, i64)>, DbError> {
    Ok(likes::table
        .filter(likes::user_id.eq(user_id))
        .order(likes::created_at)
        .select((likes::post_id, likes::created_at))
        .load(conn)?)
}

/// What else is kept about the member, for "Your data": how much of it, and the flags
/// and requests themselves (the download has every row).
pub struct AlsoKept {
    pub topics_read: usize,
    pub categories_marked_read: usize,
    pub topics_watched: usize,
    pub categories_watched: usize,
    pub likes_given: usize,
    pub mentioned_in: usize,
    pub flags: Vec<FlagRow>,
    pub requests: Vec<RequestRow>,
}

pub fn also_kept(conn: &mut DbConn, user_id: i64) -> Result<AlsoKept, DbError> {
    let read = crate::forum::read_state::read_by(conn, user_id)?;
    Ok(AlsoKept {
        topics_read: read.topics.len(),
        categories_marked_read: read.categories.len(),
        topics_watched: crate::forum::watching::of_member(conn, user_id)?.len(),
        categories_watched: crate::forum::watching::categories_of_member(conn, user_id)?.len(),
        likes_given: likes_given(conn, user_id)?.len(),
        mentioned_in: crate::forum::mentions::referring(conn, user_id)?.len(),
        flags: flags_filed(conn, user_id)?,
        requests: privacy_requests_of(conn, user_id)?,
    })
}
