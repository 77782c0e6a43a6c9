//! Member accounts in the database (no HTTP here).

use diesel::prelude::*;

use crate::auth::domain::{Email, Username};
use crate::auth::role::Role;
use crate::db::schema::users;
use crate::db::{now, DbConn, DbError};

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("username taken")]
    UsernameTaken,
    #[error("e-mail taken")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for RegisterError {
    fn from(e: diesel::result::Error) -> Self {
        RegisterError::Db(DbError::Query(e))
    }
}

pub struct NewMember<'a> {
    pub username: &'a Username,
    pub email: &'a Email,
    pub password_hash: &'a str,
    pub policy_version: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct UserRow<'a> {
    username: &'a str,
    username_key: &'a str,
    email: Option<&'a str>,
    email_verified: bool,
    password_hash: Option<&'a str>,
    role: Role,
    created_at: i64,
    age_confirmed_at: Option<i64>,
    policy_version: Option<&'a str>,
    policy_accepted_at: Option<i64>,
}

/// Creates a local account; the age and policy boxes were ticked, so both are recorded now.
pub fn create_member(conn: &mut DbConn, member: NewMember<'_>) -> Result<i64, RegisterError> {
    let key = member.username.key();
    let now = now();
    let row = UserRow {
        username: member.username.as_str(),
        username_key: &key,
        email: Some(member.email.as_str()),
        email_verified: false,
        password_hash: Some(member.password_hash),
        role: Role::Member,
        created_at: now,
        age_confirmed_at: Some(now),
        policy_version: Some(member.policy_version),
        policy_accepted_at: Some(now),
    };
    let email = member.email.as_str();
    let inserted = conn.write_transaction(|conn| {
        let name_taken = diesel::select(diesel::dsl::exists(users::table.filter(users::username_key.eq(&key))))
            .get_result::<bool>(conn)?;
        if name_taken {
            return Err(RegisterError::UsernameTaken);
        }
        let email_taken = diesel::select(diesel::dsl::exists(users::table.filter(users::email.eq(email))))
            .get_result::<bool>(conn)?;
        if email_taken {
            return Err(RegisterError::EmailTaken);
        }
        let id = diesel::insert_into(users::table).values(&row).returning(users::id).get_result::<i64>(conn)?;
        Ok(id)
    });
    // Two sign-ups racing for one name both pass the check; the UNIQUE index stops one.
    match inserted {
        Err(RegisterError::Db(e)) if e.is_unique_violation() => Err(RegisterError::UsernameTaken),
        other => other,
    }
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
