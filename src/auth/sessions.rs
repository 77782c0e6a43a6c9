//! Server-side sessions. The browser holds a random token; the database holds only
//! its SHA-256, so a leaked database (or backup) cannot be replayed as cookies.

use diesel::prelude::*;

use crate::auth::role::Role;
use crate::db::one_value::one_value;
use crate::db::schema::{content_version, notifications, sessions, users};
use crate::db::{now, DbConn, DbError};
use crate::web::tokens::{hash_token, random_token};

pub const PERSISTENT_DAYS: i64 = 30;
/// A browser-session sign-in lapses after a day without visits.
pub const IDLE_SECONDS: i64 = 24 * 3600;
/// `last_seen_at` is refreshed at most this often, so reading pages rarely writes.
const TOUCH_EVERY_SECONDS: i64 = 300;

/// Who a valid session cookie belongs to.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session_id: i64,
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// Why the member may not write now (ban or suspension), if they may not.
    pub restriction: Option<String>,
    /// Unread in-app notices (e.g. the outcome of a flag).
    pub unread_notices: i64,
    /// When the account was made: new members have tighter limits.
    pub joined_at: i64,
    /// Whether the member's e-mail address is confirmed (GitHub's are): needed to post.
    pub email_confirmed: bool,
    /// Whether signing in takes a second step (`auth::two_factor`).
    pub two_factor_on: bool,
}

impl SessionUser {
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// A moderator or admin not banned or suspended: staff powers are paused meanwhile.
    pub fn has_staff_powers(&self) -> bool {
        self.is_staff() && self.restriction.is_none()
    }
}

/// The words a banned or suspended member sees.
pub fn restriction(banned: bool, suspended_until: Option<i64>, reason: Option<&str>, now: i64) -> Option<String> {
    let reason = reason.unwrap_or("no reason given");
    if banned {
        return Some(format!("Your account is banned: {reason}."));
    }
    match suspended_until {
        Some(until) if until > now => {
            let when = crate::web::filters::when(until, askama::NO_VALUES).unwrap_or_default();
            Some(format!("Your account is suspended until {when}: {reason}."))
        }
        _ => None,
    }
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
struct NewSession<'a> {
    token_hash: &'a str,
    user_id: i64,
    persistent: bool,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    ip: &'a str,
    user_agent: &'a str,
}

/// Starts a session and returns the token for the cookie.
pub fn create(
    conn: &mut DbConn,
    user_id: i64,
    persistent: bool,
    ip: &str,
    user_agent: &str,
) -> Result<String, DbError> {
    let token = random_token();
    let token_hash = hash_token(&token);
    let now = now();
    let expires_at = if persistent { now + PERSISTENT_DAYS * 86400 } else { now + IDLE_SECONDS };
    let user_agent: String = user_agent.chars().take(300).collect();
    let row = NewSession {
        token_hash: &token_hash,
        user_id,
        persistent,
        created_at: now,
        last_seen_at: now,
        expires_at,
        ip,
        user_agent: &user_agent,
    };
    diesel::insert_into(sessions::table).values(&row).execute(conn)?;
    Ok(token)
}

/// A session seen again after [`TOUCH_EVERY_SECONDS`]: its last visit (and, for a
/// browser session, its expiry) moves.
#[derive(Debug, Clone, Copy)]
pub struct Touch {
    session_id: i64,
    persistent: bool,
}

/// Records the visit [`find`] asked for: the only write a signed-in page view makes, at
/// most once every few minutes.
pub fn touch(conn: &mut DbConn, touch: Touch) -> Result<(), DbError> {
    let (now, target) = (now(), sessions::table.find(touch.session_id));
    if touch.persistent {
        diesel::update(target).set(sessions::last_seen_at.eq(now)).execute(conn)?;
    } else {
        diesel::update(target)
            .set((sessions::last_seen_at.eq(now), sessions::expires_at.eq(now + IDLE_SECONDS)))
            .execute(conn)?;
    }
    Ok(())
}

/// A session found for a cookie's token.
#[derive(Debug)]
pub struct Found {
    pub user: SessionUser,
    /// Whether the visit is to be recorded ([`touch`]).
    pub touch: Option<Touch>,
    /// The forum's content version, read in the same statement: pages that keep rows
    /// by version (`forum::page_cache`) need one read before their rows, and this one
    /// costs no round trip of its own.
    pub content_version: i64,
}

/// The member behind a cookie token, if the session exists and has not expired. Only reads.
pub fn find(conn: &mut DbConn, token: &str) -> Result<Option<Found>, DbError> {
    let lookup = SessionLookup::for_token(token);
    let query = lookup.sessions().select(lookup.columns());
    let row = crate::per_backend!(conn, |c| query.get_result::<SessionRow>(c).optional())?;
    row.map(|row| lookup.found(row)).transpose()
}

/// The statement that finds a session, in parts, so that a page can ask its own
/// questions about the member (their read position, their watch level) in the same
/// statement: on PostgreSQL each statement is a round trip, and a member's page is
/// mostly made of them. `find` is the plain one:
/// `lookup.sessions().select((lookup.columns(), own_questions)).get_result(conn)`. A token
/// names one session (a unique index) and each question is one value
/// (`db::one_value`), so the statement carries no LIMIT at all.
///
/// Run it on the backend's own connection (`per_backend!`): through `DbConn`, diesel's
/// `MultiConnection` writes a statement's SQL out again at every execution to find its
/// cached statement, and for this statement, with its subqueries, that was 40% of a
/// member's topic page on SQLite (perf); the backend's own connection finds it by type.
pub struct SessionLookup {
    token_hash: String,
    now: i64,
}

/// What [`SessionLookup::columns`] reads.
pub type SessionRow = (
    (i64, bool, i64),
    (i64, String, Role, bool, Option<i64>, Option<String>),
    (i64, bool, bool),
    Option<i64>,
    Option<i64>,
);

impl SessionLookup {
    pub fn for_token(token: &str) -> Self {
        SessionLookup { token_hash: hash_token(token), now: now() }
    }

    /// The session with the token, unexpired, joined with its member: the statement's FROM.
    pub fn sessions(&self) -> live_session {
        live_session(self.token_hash.clone(), self.now)
    }

    /// The session's and the member's columns, their unread count and the content version.
    /// A page's own questions go beside them, as subqueries on the member's `users::id`.
    pub fn columns(&self) -> session_columns {
        session_columns()
    }

    /// The session, from its row.
    pub fn found(&self, row: SessionRow) -> Result<Found, DbError> {
        let (
            (session_id, persistent, last_seen_at),
            (user_id, username, role, banned, suspended_until, reason),
            (joined_at, email_confirmed, two_factor_on),
            unread_notices,
            content_version,
        ) = row;
        let content_version = content_version.ok_or(diesel::result::Error::NotFound)?;
        let unread_notices = unread_notices.unwrap_or(0);
        let touch = (self.now - last_seen_at >= TOUCH_EVERY_SECONDS).then_some(Touch { session_id, persistent });
        let restriction = restriction(banned, suspended_until, reason.as_deref(), self.now);
        let user = SessionUser {
            session_id,
            user_id,
            username,
            role,
            restriction,
            unread_notices,
            joined_at,
            email_confirmed,
            two_factor_on,
        };
        Ok(Found { user, touch, content_version })
    }
}

#[diesel::dsl::auto_type]
fn live_session(token_hash: String, now: i64) -> _ {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now))
}

// The unread count and the content version ride along as subqueries: one statement,
// one round trip on PostgreSQL, for every signed-in page. The count reads the partial
// index of unread rows.
#[diesel::dsl::auto_type]
fn session_columns() -> _ {
    let unread: diesel::dsl::count_star = diesel::dsl::count_star();
    (
        (sessions::id, sessions::persistent, sessions::last_seen_at),
        (users::id, users::username, users::role, users::banned, users::suspended_until, users::suspension_reason),
        (users::created_at, users::email_verified, users::two_factor_on),
        one_value(
            notifications::table
                .filter(notifications::user_id.eq(users::id))
                .filter(notifications::read_at.is_null())
                .select(unread),
        ),
        one_value(content_version::table.find(1_i32).select(content_version::version)),
    )
}

pub fn delete(conn: &mut DbConn, session_id: i64) -> Result<(), DbError> {
    diesel::delete(sessions::table.find(session_id)).execute(conn)?;
    Ok(())
}

/// When this session last re-proved who the member is (deletion asks for it).
pub fn reauthenticated_at(conn: &mut DbConn, session_id: i64) -> Result<Option<i64>, DbError> {
    Ok(sessions::table
        .find(session_id)
        .select(sessions::reauthenticated_at)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten())
}

pub fn mark_reauthenticated(conn: &mut DbConn, session_id: i64) -> Result<(), DbError> {
    diesel::update(sessions::table.find(session_id)).set(sessions::reauthenticated_at.eq(Some(now()))).execute(conn)?;
    Ok(())
}
