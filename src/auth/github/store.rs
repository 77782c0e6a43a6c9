//! GitHub sign-in in the database: flows in progress, sign-ups awaiting consent,
//! linked accounts and stored pictures (no HTTP here).

use diesel::prelude::*;

use crate::auth::accounts::{self, NewAccount, RegisterError};
use crate::auth::domain::Username;
use crate::auth::github::client::{Avatar, GithubProfile};
use crate::db::schema::{avatars, github_signups, oauth_states, users};
use crate::db::{now, DbConn, DbError};

/// A sign-in round trip must come back within ten minutes.
pub const STATE_LIFETIME_SECONDS: i64 = 600;
/// A new member has thirty minutes to tick the boxes before GitHub's answer is forgotten.
pub const SIGNUP_LIFETIME_SECONDS: i64 = 1800;

/// What a round trip to GitHub is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    SignIn,
    Link,
    Reimport,
    /// Re-proving identity before deleting the account.
    Reauth,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::SignIn => "sign-in",
            Purpose::Link => "link",
            Purpose::Reimport => "reimport",
            Purpose::Reauth => "reauth",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Purpose::SignIn, Purpose::Link, Purpose::Reimport, Purpose::Reauth].into_iter().find(|p| p.as_str() == s)
    }
}

pub struct PendingFlow {
    pub pkce_verifier: String,
    pub purpose: Purpose,
    pub user_id: Option<i64>,
    pub next_path: String,
}

pub fn save_flow(
    conn: &mut DbConn,
    state: &str,
    pkce_verifier: &str,
    purpose: Purpose,
    user_id: Option<i64>,
    next_path: &str,
) -> Result<(), DbError> {
    let now = now();
    conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        // Abandoned flows are cleared as new ones start.
        diesel::delete(oauth_states::table.filter(oauth_states::created_at.lt(now - STATE_LIFETIME_SECONDS)))
            .execute(conn)?;
        diesel::insert_into(oauth_states::table)
            .values((
                oauth_states::state.eq(state),
                oauth_states::pkce_verifier.eq(pkce_verifier),
                oauth_states::purpose.eq(purpose.as_str()),
                oauth_states::user_id.eq(user_id),
                oauth_states::next_path.eq(next_path),
                oauth_states::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    Ok(())
}

/// Removes the flow for `state` and returns it if it was still fresh. Removing
/// comes first, so the same state (and code) can never be used twice.
pub fn take_flow(conn: &mut DbConn, state: &str) -> Result<Option<PendingFlow>, DbError> {
    let row = diesel::delete(oauth_states::table.find(state))
        .returning((
            oauth_states::pkce_verifier,
            oauth_states::purpose,
            oauth_states::user_id,
            oauth_states::next_path,
            oauth_states::created_at,
        ))
        .get_result::<(String, String, Option<i64>, String, i64)>(conn)
        .optional()?;
    Ok(row.and_then(|(pkce_verifier, purpose, user_id, next_path, created_at)| {
        let fresh = now() - created_at <= STATE_LIFETIME_SECONDS;
        let purpose = Purpose::parse(&purpose)?;
        fresh.then_some(PendingFlow { pkce_verifier, purpose, user_id, next_path })
    }))
}

/// The member signed in with this GitHub account, if any.
pub fn member_for_github(conn: &mut DbConn, github_id: i64) -> Result<Option<i64>, DbError> {
    Ok(users::table.filter(users::github_id.eq(github_id)).select(users::id).first(conn).optional()?)
}

/// Keeps the stored login in step with GitHub (logins can be renamed; ids cannot).
pub fn update_github_login(conn: &mut DbConn, user_id: i64, login: &str) -> Result<(), DbError> {
    diesel::update(users::table.find(user_id)).set(users::github_login.eq(login)).execute(conn)?;
    Ok(())
}

/// A free username close to the GitHub login: the login itself (shortened and
/// cleaned to our rules), else the same with `-2`, `-3`, …
pub fn free_username(conn: &mut DbConn, login: &str) -> Result<String, DbError> {
    let mut base: String =
        login.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(Username::MAX - 3).collect();
    while base.chars().count() < Username::MIN {
        base.push('0');
    }
    if Username::parse(&base).is_err() {
        base = format!("member{}", base.len());
    }
    for n in 1..1000 {
        let candidate = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        if !accounts::username_taken(conn, &candidate.to_ascii_lowercase())? {
            return Ok(candidate);
        }
    }
    Ok(format!("{base}-{}", now() % 100_000))
}

/// What GitHub said about a member who has not yet ticked the boxes.
#[derive(Debug, Queryable)]
pub struct Signup {
    pub github_id: i64,
    pub github_login: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: String,
    pub avatar_type: Option<String>,
    pub avatar: Option<Vec<u8>>,
    pub next_path: String,
    pub created_at: i64,
}

pub fn save_signup(
    conn: &mut DbConn,
    token_hash: &str,
    profile: &GithubProfile,
    email: &str,
    avatar: Option<&Avatar>,
    next_path: &str,
) -> Result<(), DbError> {
    let now = now();
    conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        // Sign-ups nobody finished are personal data we no longer need.
        diesel::delete(github_signups::table.filter(github_signups::created_at.lt(now - SIGNUP_LIFETIME_SECONDS)))
            .execute(conn)?;
        diesel::insert_into(github_signups::table)
            .values((
                github_signups::token_hash.eq(token_hash),
                github_signups::github_id.eq(profile.id),
                github_signups::github_login.eq(&profile.login),
                github_signups::first_name.eq(&profile.first_name),
                github_signups::last_name.eq(&profile.last_name),
                github_signups::email.eq(email.to_lowercase()),
                github_signups::avatar_type.eq(avatar.map(|a| a.content_type)),
                github_signups::avatar.eq(avatar.map(|a| a.bytes.as_slice())),
                github_signups::next_path.eq(next_path),
                github_signups::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    Ok(())
}

const SIGNUP_COLUMNS: (
    github_signups::github_id,
    github_signups::github_login,
    github_signups::first_name,
    github_signups::last_name,
    github_signups::email,
    github_signups::avatar_type,
    github_signups::avatar,
    github_signups::next_path,
    github_signups::created_at,
) = (
    github_signups::github_id,
    github_signups::github_login,
    github_signups::first_name,
    github_signups::last_name,
    github_signups::email,
    github_signups::avatar_type,
    github_signups::avatar,
    github_signups::next_path,
    github_signups::created_at,
);

pub fn find_signup(conn: &mut DbConn, token_hash: &str) -> Result<Option<Signup>, DbError> {
    let signup: Option<Signup> =
        github_signups::table.find(token_hash).select(SIGNUP_COLUMNS).first(conn).optional()?;
    Ok(signup.filter(|s| now() - s.created_at <= SIGNUP_LIFETIME_SECONDS))
}

#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    #[error("the sign-up expired")]
    Expired,
    #[error("username taken")]
    UsernameTaken,
    #[error("GitHub account already registered")]
    AlreadyRegistered,
    #[error("e-mail in use")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<RegisterError> for SignupError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::UsernameTaken => SignupError::UsernameTaken,
            RegisterError::EmailTaken => SignupError::EmailTaken,
            RegisterError::GithubTaken => SignupError::AlreadyRegistered,
            RegisterError::Db(e) => SignupError::Db(e),
        }
    }
}

impl From<diesel::result::Error> for SignupError {
    fn from(e: diesel::result::Error) -> Self {
        SignupError::Db(DbError::Query(e))
    }
}

/// Creates the account from a pending sign-up, with its picture, and drops the
/// sign-up, in one transaction.
pub fn complete_signup(
    conn: &mut DbConn,
    token_hash: &str,
    username: &Username,
    newsletter: bool,
    notification_mail: bool,
) -> Result<(i64, String), SignupError> {
    let signup = find_signup(conn, token_hash)?.ok_or(SignupError::Expired)?;
    let user_id = conn.write_transaction::<_, SignupError, _>(|conn| {
        let account = NewAccount {
            username,
            email: &signup.email,
            email_verified: true,
            password_hash: None,
            first_name: signup.first_name.as_deref(),
            last_name: signup.last_name.as_deref(),
            github: Some((signup.github_id, &signup.github_login)),
            picture: signup.avatar_type.as_deref().zip(signup.avatar.as_deref()),
            newsletter: newsletter.then_some("registration with GitHub"),
            notification_mail,
        };
        let user_id = accounts::register(conn, account)?;
        diesel::delete(github_signups::table.find(token_hash)).execute(conn)?;
        Ok(user_id)
    })?;
    Ok((user_id, signup.next_path))
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("that GitHub account belongs to another member")]
    LinkedElsewhere,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Links a GitHub account to a signed-in member.
pub fn link(conn: &mut DbConn, user_id: i64, github_id: i64, login: &str) -> Result<(), LinkError> {
    match member_for_github(conn, github_id)? {
        Some(owner) if owner != user_id => return Err(LinkError::LinkedElsewhere),
        _ => {}
    }
    let updated = diesel::update(users::table.find(user_id))
        .set((users::github_id.eq(github_id), users::github_login.eq(login)))
        .execute(conn);
    match updated {
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Err(LinkError::LinkedElsewhere)
        }
        other => other.map(|_| ()).map_err(|e| LinkError::Db(e.into())),
    }
}

/// Unlinks GitHub; refused (false) when it is the member's only way to sign in.
/// Removes the GitHub link (members with a password only); the ledger notes it so a
/// restored backup cannot link it again.
pub fn unlink(conn: &mut DbConn, user_id: i64) -> Result<bool, DbError> {
    let now = now();
    Ok(conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        let updated = diesel::update(users::table.find(user_id).filter(users::password_hash.is_not_null()))
            .set((users::github_id.eq(None::<i64>), users::github_login.eq(None::<String>)))
            .execute(conn)?;
        if updated == 1 {
            crate::record_erasure!(conn, user_id, "github", "removed by member", now)?;
        }
        Ok(updated == 1)
    })?)
}

/// The member's GitHub id, if linked.
pub fn github_id_of(conn: &mut DbConn, user_id: i64) -> Result<Option<i64>, DbError> {
    Ok(users::table.find(user_id).select(users::github_id).first::<Option<i64>>(conn).optional()?.flatten())
}

/// Re-import on request: names and picture from GitHub replace the stored ones.
pub fn reimport(
    conn: &mut DbConn,
    user_id: i64,
    profile: &GithubProfile,
    avatar: Option<&Avatar>,
) -> Result<(), DbError> {
    let now = now();
    conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        // What is replaced counts as removed: a backup must not bring it back.
        for field in ["first_name", "last_name", "avatar"] {
            crate::record_erasure!(conn, user_id, field, "re-imported from GitHub", now)?;
        }
        diesel::update(users::table.find(user_id))
            .set((
                users::first_name.eq(&profile.first_name),
                users::last_name.eq(&profile.last_name),
                users::github_login.eq(&profile.login),
            ))
            .execute(conn)?;
        diesel::delete(avatars::table.find(user_id)).execute(conn)?;
        crate::auth::accounts::picture_changed(conn, user_id)?;
        if let Some(avatar) = avatar {
            diesel::insert_into(avatars::table)
                .values((
                    avatars::user_id.eq(user_id),
                    avatars::content_type.eq(avatar.content_type),
                    avatars::image.eq(&avatar.bytes),
                    avatars::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    })?;
    Ok(())
}
