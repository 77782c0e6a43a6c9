//! Single-use links sent by e-mail (confirm an address, reset a password, change an
//! address). The link carries a random token; the database keeps only its hash.

use diesel::prelude::*;

use crate::db::schema::email_tokens;
use crate::db::{now, DbConn, DbError};
use crate::web::tokens::{hash_token, random_token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    ConfirmEmail,
    ResetPassword,
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::ConfirmEmail => "confirm-email",
            Purpose::ResetPassword => "reset-password",
            Purpose::ChangeEmail => "change-email",
        }
    }

    /// How long a link stays valid.
    fn lifetime_seconds(self) -> i64 {
        match self {
            Purpose::ConfirmEmail => 7 * 86400,
            Purpose::ResetPassword => 3600,
            Purpose::ChangeEmail => 86400,
        }
    }
}

/// Makes a link token, replacing any earlier one for the same member and purpose.
pub fn issue(conn: &mut DbConn, user_id: i64, purpose: Purpose, new_email: Option<&str>) -> Result<String, DbError> {
    let token = random_token();
    let token_hash = hash_token(&token);
    let now = now();
    conn.write_transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::delete(
            email_tokens::table
                .filter(email_tokens::user_id.eq(user_id))
                .filter(email_tokens::purpose.eq(purpose.as_str())),
        )
        .execute(conn)?;
        diesel::delete(email_tokens::table.filter(email_tokens::expires_at.lt(now))).execute(conn)?;
        diesel::insert_into(email_tokens::table)
            .values((
                email_tokens::token_hash.eq(&token_hash),
                email_tokens::user_id.eq(user_id),
                email_tokens::purpose.eq(purpose.as_str()),
                email_tokens::new_email.eq(new_email),
                email_tokens::created_at.eq(now),
                email_tokens::expires_at.eq(now + purpose.lifetime_seconds()),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    Ok(token)
}

/// Voids every pending link of these kinds for the member (e.g. reset links once the
/// password or the address changed).
pub fn revoke(conn: &mut DbConn, user_id: i64, purposes: &[Purpose]) -> Result<usize, DbError> {
    let purposes: Vec<&str> = purposes.iter().map(|p| p.as_str()).collect();
    Ok(diesel::delete(
        email_tokens::table.filter(email_tokens::user_id.eq(user_id)).filter(email_tokens::purpose.eq_any(&purposes)),
    )
    .execute(conn)?)
}

/// The member (and new address) behind a valid, unexpired token, without using it up.
pub fn peek(conn: &mut DbConn, token: &str, purpose: Purpose) -> Result<Option<(i64, Option<String>)>, DbError> {
    let token_hash = hash_token(token);
    Ok(email_tokens::table
        .find(&token_hash)
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::expires_at.gt(now()))
        .select((email_tokens::user_id, email_tokens::new_email))
        .first(conn)
        .optional()?)
}

/// Uses a token up: it is deleted whether or not it was still valid.
pub fn take(conn: &mut DbConn, token: &str, purpose: Purpose) -> Result<Option<(i64, Option<String>)>, DbError> {
    let token_hash = hash_token(token);
    let row = diesel::delete(email_tokens::table.find(&token_hash).filter(email_tokens::purpose.eq(purpose.as_str())))
        .returning((email_tokens::user_id, email_tokens::new_email, email_tokens::expires_at))
        .get_result::<(i64, Option<String>, i64)>(conn)
        .optional()?;
    Ok(row.filter(|(_, _, expires_at)| *expires_at > now()).map(|(user_id, email, _)| (user_id, email)))
}
