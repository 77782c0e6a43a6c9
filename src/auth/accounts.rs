//! The users table's one owner for who may have an account: registration (local and
//! GitHub alike), the names and addresses already taken, sign-in lookups, and the
//! member's profile row (no HTTP here).

use diesel::prelude::*;

use crate::auth::domain::Username;
use crate::auth::role::Role;
use crate::db::schema::{avatars, users};
use crate::db::{now, DbConn, DbError};

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("username taken")]
    UsernameTaken,
    #[error("e-mail taken")]
    EmailTaken,
    #[error("GitHub account already registered")]
    GithubTaken,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for RegisterError {
    fn from(e: diesel::result::Error) -> Self {
        RegisterError::Db(DbError::Query(e))
    }
}

/// The shared account a deleted member's posts are attributed to (a migration makes it).
pub const ANONYMOUS_NAME: &str = "Anonymous";

/// Everything a new account starts with. Both sign-up forms refuse to go on unless the
/// age and policy boxes are ticked, so both are recorded as the account is made.
pub struct NewAccount<'a> {
    pub username: &'a Username,
    pub email: &'a str,
    /// True when GitHub verified the address; a local account confirms it by link.
    pub email_verified: bool,
    pub password_hash: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    /// GitHub's numeric id and login, for an account made with GitHub.
    pub github: Option<(i64, &'a str)>,
    /// The picture's content type and bytes.
    pub picture: Option<(&'a str, &'a [u8])>,
    /// Where the newsletter was asked for, when it was.
    pub newsletter: Option<&'a str>,
    /// Ticked "e-mail me about replies and mentions while I'm away".
    pub notification_mail: bool,
}

/// Makes an account, with its picture and newsletter consent and the current policy
/// version, in one transaction; a name, address or GitHub account already in use refuses.
pub fn register(conn: &mut DbConn, account: NewAccount<'_>) -> Result<i64, RegisterError> {
    let key = account.username.key();
    let now = now();
    let created = conn.write_transaction(|conn| {
        if let Some((github_id, _)) = account.github {
            if github_registered(conn, github_id)? {
                return Err(RegisterError::GithubTaken);
            }
        }
        if username_taken(conn, &key)? {
            return Err(RegisterError::UsernameTaken);
        }
        if email_taken(conn, account.email)? {
            return Err(RegisterError::EmailTaken);
        }
        let policy_version = crate::privacy::policy::current_version(conn)?;
        let user_id = diesel::insert_into(users::table)
            .values((
                users::username.eq(account.username.as_str()),
                users::username_key.eq(&key),
                users::email.eq(account.email),
                users::email_verified.eq(account.email_verified),
                users::password_hash.eq(account.password_hash),
                users::role.eq(Role::Member),
                users::created_at.eq(now),
                users::age_confirmed_at.eq(now),
                users::policy_version.eq(&policy_version),
                users::policy_accepted_at.eq(now),
                users::first_name.eq(account.first_name),
                users::last_name.eq(account.last_name),
                users::github_id.eq(account.github.map(|(id, _)| id)),
                users::github_login.eq(account.github.map(|(_, login)| login)),
                users::notification_mail.eq(account.notification_mail),
            ))
            .returning(users::id)
            .get_result::<i64>(conn)?;
        if let Some((content_type, image)) = account.picture {
            diesel::insert_into(avatars::table)
                .values((
                    avatars::user_id.eq(user_id),
                    avatars::content_type.eq(content_type),
                    avatars::image.eq(image),
                    avatars::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        if let Some(source) = account.newsletter {
            crate::privacy::consent::set_newsletter(conn, user_id, true, source)?;
        }
        Ok(user_id)
    });
    match created {
        // Two sign-ups racing for one name, address or GitHub account both pass the
        // checks; a UNIQUE index stops one, and the checks now say which it was.
        Err(RegisterError::Db(e)) if e.is_unique_violation() => Err(match account.github {
            Some((github_id, _)) if github_registered(conn, github_id)? => RegisterError::GithubTaken,
            _ if username_taken(conn, &key)? => RegisterError::UsernameTaken,
            _ => RegisterError::EmailTaken,
        }),
        other => other,
    }
}

/// Gives the member's picture a new URL (`/avatars/{id}?v={version}`), so browsers,
/// which keep each version for a year, fetch the new one.
pub fn picture_changed(conn: &mut DbConn, user_id: i64) -> Result<(), diesel::result::Error> {
    diesel::update(users::table.find(user_id))
        .set(users::avatar_version.eq(users::avatar_version + 1))
        .execute(conn)?;
    Ok(())
}

/// Whether an account has this username (`key` is its lower-case form).
pub fn username_taken(conn: &mut DbConn, key: &str) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(users::table.filter(users::username_key.eq(key)))).get_result(conn)?)
}

/// Whether an account has this address, confirmed or not.
pub fn email_taken(conn: &mut DbConn, email: &str) -> Result<bool, DbError> {
    let email = email.to_lowercase();
    Ok(diesel::select(diesel::dsl::exists(users::table.filter(users::email.eq(&email)))).get_result(conn)?)
}

fn github_registered(conn: &mut DbConn, github_id: i64) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(users::table.filter(users::github_id.eq(github_id)))).get_result(conn)?)
}

/// The id and password hash of the member signing in by username or e-mail.
pub fn find_login(conn: &mut DbConn, login: &str) -> Result<Option<(i64, Option<String>)>, DbError> {
    let login = login.trim().to_lowercase();
    let found = users::table
        .filter(users::username_key.eq(&login).or(users::email.eq(&login)))
        .select((users::id, users::password_hash))
        .first::<(i64, Option<String>)>(conn)
        .optional()?;
    Ok(found)
}

#[derive(Debug, Queryable)]
pub struct Profile {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: Option<String>,
    pub github_id: Option<i64>,
    pub github_login: Option<String>,
    pub created_at: i64,
    pub age_confirmed_at: Option<i64>,
    pub policy_version: Option<String>,
    pub policy_accepted_at: Option<i64>,
    pub newsletter: bool,
    pub role: String,
    /// "Show my name on my profile".
    pub show_name: bool,
    /// Opted in to notification e-mail when joining.
    pub notification_mail: bool,
}

impl Profile {
    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }
}

pub fn profile(conn: &mut DbConn, user_id: i64) -> Result<Option<Profile>, DbError> {
    Ok(users::table
        .find(user_id)
        .select((
            users::id,
            users::username,
            users::email,
            users::email_verified,
            users::first_name,
            users::last_name,
            users::password_hash,
            users::github_id,
            users::github_login,
            users::created_at,
            users::age_confirmed_at,
            users::policy_version,
            users::policy_accepted_at,
            users::newsletter,
            users::role,
            users::show_name,
            users::notification_mail,
        ))
        .first(conn)
        .optional()?)
}

pub fn password_hash(conn: &mut DbConn, user_id: i64) -> Result<Option<String>, DbError> {
    Ok(users::table.find(user_id).select(users::password_hash).first::<Option<String>>(conn)?)
}
