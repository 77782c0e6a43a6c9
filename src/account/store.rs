//! A member's own data, as the account page shows it (no HTTP here).

use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::{DbConn, DbError};
use crate::with_conn;

#[derive(Debug, Queryable)]
pub struct Profile {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: Option<String>,
    pub github_login: Option<String>,
    pub created_at: i64,
    pub policy_version: Option<String>,
    pub policy_accepted_at: Option<i64>,
}

impl Profile {
    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }
}

pub fn profile(conn: &mut DbConn, user_id: i64) -> Result<Option<Profile>, DbError> {
    Ok(with_conn!(conn, |c| users::table
        .find(user_id)
        .select((
            users::id,
            users::username,
            users::email,
            users::email_verified,
            users::first_name,
            users::last_name,
            users::password_hash,
            users::github_login,
            users::created_at,
            users::policy_version,
            users::policy_accepted_at,
        ))
        .first(c)
        .optional())?)
}
