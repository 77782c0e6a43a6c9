//! Privacy requests (access, correction, deletion, third parties): what one is, filing
//! it, and which account it belongs to. Members file them from `account::privacy_request`;
//! staff answer them from `moderation::privacy_requests`.

use diesel::prelude::*;

use crate::db::schema::{privacy_requests, users};
use crate::db::{now, DbConn, DbError};

#[derive(Debug, Queryable)]
pub struct PrivacyRequest {
    pub id: i64,
    pub email: String,
    pub kind: String,
    pub message: String,
    pub status: RequestStatus,
    pub staff_note: String,
    pub refusal_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

crate::text_enum! {
    /// Where a privacy request stands.
    pub enum RequestStatus {
        Open => "open",
        Answered => "answered",
        Refused => "refused",
    }
}

pub const REQUEST_KINDS: &[(&str, &str)] = &[
    ("access", "A copy of my personal information"),
    ("correction", "Correction of my personal information"),
    ("deletion", "Deletion of my personal information"),
    ("third-parties", "The categories of third parties my information was shared with"),
];

/// Requests must be answered within this long.
pub const REQUEST_DEADLINE_SECONDS: i64 = 30 * 86400;

pub fn file_privacy_request(
    conn: &mut DbConn,
    email: &str,
    user_id: Option<i64>,
    kind: &str,
    message: &str,
) -> Result<i64, DbError> {
    let now = now();
    Ok(diesel::insert_into(privacy_requests::table)
        .values((
            privacy_requests::email.eq(email),
            privacy_requests::user_id.eq(user_id),
            privacy_requests::kind.eq(kind),
            privacy_requests::message.eq(message),
            privacy_requests::status.eq(RequestStatus::Open),
            privacy_requests::staff_note.eq(""),
            privacy_requests::created_at.eq(now),
            privacy_requests::updated_at.eq(now),
        ))
        .returning(privacy_requests::id)
        .get_result(conn)?)
}

/// Privacy requests filed under the member's address belong to their account once
/// that address is confirmed as theirs (never on a merely typed address): from then
/// on the export shows them and deletion erases them.
pub fn claim(conn: &mut DbConn, user_id: i64) -> Result<usize, DbError> {
    let confirmed: Option<Option<String>> = users::table
        .find(user_id)
        .filter(users::email_verified.eq(true))
        .select(users::email)
        .first(conn)
        .optional()?;
    let Some(email) = confirmed.flatten() else { return Ok(0) };
    Ok(diesel::update(
        privacy_requests::table.filter(privacy_requests::email.eq(&email)).filter(privacy_requests::user_id.is_null()),
    )
    .set(privacy_requests::user_id.eq(Some(user_id)))
    .execute(conn)?)
}

/// The account whose confirmed address this is, if any.
pub fn owner_of_address(conn: &mut DbConn, email: &str) -> Result<Option<i64>, DbError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .filter(users::email_verified.eq(true))
        .select(users::id)
        .first(conn)
        .optional()?)
}
